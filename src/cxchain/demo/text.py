"""Customer verbatims composed from varied fragments (openings, problem paraphrases, failure context,
reference numbers and amounts, emotion, sometimes personal data), plus agent notes and replies."""

from __future__ import annotations

import random

from . import phrases_council, phrases_housing

OPENINGS = ["", "", "", "Hi, ", "Hello, ", "Good morning. ", "Hiya ", "Hi there, ", "Morning, ",
            "Dear Sir/Madam, ", "To whom it may concern, ", "Hello, hope you can help. ", "Evening, ",
            "Sorry to bother you but ", "Right, ", "Hi. Quick question. "]

FAILURE: dict[str, list[str]] = {
    "chasing_progress": [
        "I'm chasing this up again.", "This is the third time I've been in touch about it.",
        "I was promised a call back on {day} and nobody rang.", "Still waiting to hear anything at all.",
        "can you tell me where this is up to?", "Nobody has updated me since I first reported it {n} weeks ago.",
        "Your website still says 'in progress'.", "I've left two voicemails and had nothing back.",
        "I was told 5 working days and it's been way longer.", "Just want to know when it'll be done.",
    ],
    "not_done_right": [
        "It was supposedly sorted but it hasn't been done properly.", "Whoever dealt with it got it wrong.",
        "You've put the wrong details on my account.", "The person who came out didn't finish the job.",
        "It was marked as completed but it isn't.", "What you sent me is for the wrong address.",
        "You've fixed the wrong thing.", "The amount you've used is wrong, it should be {amount}.",
    ],
    "did_not_understand": [
        "I got a letter and I can't make head nor tail of it.", "The letter doesn't say what I'm meant to do.",
        "I don't understand what the website is asking me for.", "Nobody explained this to me.",
        "The form asks for a reference I haven't got.", "I don't know what this means for me.",
        "I tried to follow the instructions online but got lost.", "Is this something I need to pay or not?",
    ],
    "repeat_unresolved": [
        "This is the same problem I reported last month.", "It's happened again.",
        "Nothing has changed since I last called.", "Same as before, still not fixed.",
        "I've reported this {n} times now.", "It was fine for a week and now it's back.",
        "I'm getting the same issue again and again.", "We went through all this on {day}.",
    ],
    "complaint": [
        "I want to make a formal complaint.", "This is disgraceful and I want it escalated.",
        "Please treat this email as a complaint.", "I want to speak to a manager about this.",
        "I'm going to my councillor about this.", "I've had enough, I want this logged as a complaint.",
        "The way I've been treated is unacceptable.", "If this isn't sorted I'm going to the ombudsman.",
    ],
}

CONTEXT = ["My reference is {ref}.", "The reference on the letter is {ref}.", "I rang on {day}.",
           "It's been {n} weeks now.", "The amount was {amount}.", "ref {ref}", "(ref: {ref})",
           "I think the account number is {ref} but don't quote me.", "This started around {day}."]

EMOTION = ["I'm really fed up.", "This is causing me a lot of stress.", "I'm disabled and can't keep chasing this.",
           "Thanks for your help.", "Sorry to go on.", "Absolutely ridiculous!!", "I'm at my wits' end.",
           "Many thanks.", "I work full time so please email rather than ring.", "My kids are suffering.",
           "Thank you in advance.", "Not happy.", "Please sort it.", "cheers", "I'm 82 and can't do this online."]

PII = ["My name is {name}.", "You can call me on {phone}.", "my number is {phone}", "my email is {email}",
       "I live at {address}, {postcode}.", "Address: {address} {postcode}", "Contact me on {phone} or {email}.",
       "It's for {name} at {postcode}."]

POLICY = {
    "waste.missed_collection": ["Since the new collection calendar came out I've no idea which week is which.",
                                "The new fortnightly schedule leaflet says one thing and the app says another."],
    "rent.statement": ["This new style statement is impossible to follow.",
                       "The new quarterly statement letter doesn't show my payments."],
}

HOSTILE = ["<script>alert(1)</script> {t}", "=HYPERLINK(\"http://example.invalid/x\",\"click\") {t}",
           "<b>{t}</b>", "+cmd|' /C calc'!A0 {t}", "@SUM(1+1) {t}", "{t} <img src=x onerror=alert(1)>",
           "-2+3 {t}", "{t} ' OR 1=1 --"]

CY_FRAMES = ["Mae gen i broblem gyda {t}.", "Dw i wedi ffonio ddwywaith am {t} a does dim byd wedi digwydd.",
             "Allwch chi fy helpu gyda {t} os gwelwch yn dda?", "Dw i eisiau cwyno am {t}.",
             "Helo, ysgrifennu ydw i ynglŷn â {t}. Diolch yn fawr.", "Does neb wedi fy ffonio yn ôl am {t}."]
PL_FRAMES = ["Dzień dobry, mam problem, chodzi o {t}.", "Dzwoniłam już dwa razy w sprawie: {t}, i nic się nie dzieje.",
             "Proszę o pomoc, chodzi o {t}.", "Chcę złożyć skargę, sprawa: {t}.", "Nie rozumiem listu, temat: {t}."]

AGENT_ACTIONS = {
    "value": ["adv", "logged", "resolved FCR", "info given", "sent link", "booked", "done"],
    "failure": ["chased w/ team", "escalated to TL", "apologised, re-logged", "cb req", "expl letter",
                "comp adv", "re-raised", "emailed service"],
}

AGENT_REPLIES = ["Thanks for getting in touch, let me look into that for you.", "Can I take your postcode please?",
                 "I'm sorry to hear that.", "I've raised that with the team for you.",
                 "You should hear back within 5 working days.", "Is there anything else I can help with today?",
                 "I can see the record here, bear with me.", "I've updated your details."]
BOT = ["Hi! I'm the virtual assistant. What can I help with today?", "Please describe your query in a few words.",
       "Connecting you to an adviser now."]

FILLER = ["The information in this email is confidential and may be legally privileged.",
          "If you are not the intended recipient please delete it and notify the sender.",
          "Please consider the environment before printing this email.",
          "We aim to respond to all enquiries within 10 working days.",
          "You can also find answers to common questions on our website.",
          "Any views expressed are those of the author and not necessarily those of the organisation."]

SIGNOFFS = ["Kind regards", "Regards", "Thanks", "Many thanks", "Best wishes", "Sent from my iPhone", "Cheers"]


def _slots(r: random.Random, prefix: str) -> dict[str, str]:
    day = r.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "last week",
                    f"the {r.randint(1, 28)}th", f"{r.randint(1, 28)}/{r.randint(1, 12)}"])
    return {
        "amount": f"£{r.randint(5, 1800)}.{r.randint(0, 99):02d}",
        "ref": f"{prefix}-{r.randint(100000, 999999)}" if r.random() < 0.8 else f"{prefix}{r.randint(10000, 99999)}",
        "day": day, "n": str(r.randint(2, 9)),
        "street": r.choice(["Mill Lane", "the high street", "Elm Road", "our road", "Station Road", "the estate"]),
    }


def _punct(p: str, r: random.Random) -> str:
    if not p or p[-1] in ".?!,:)" or p.endswith(", "):
        return p
    return p + r.choice([".", ".", ".", "!", "", ","])


def problems(sector: str) -> dict[str, list[str]]:
    return phrases_council.PROBLEMS if sector == "council" else phrases_housing.PROBLEMS


class Writer:
    """Composes texts for one sector with its own random stream."""

    def __init__(self, sector: str, seed: int, prefixes: dict[str, str]):
        self.r = random.Random(seed)
        mod = phrases_council if sector == "council" else phrases_housing
        self.problems = mod.PROBLEMS
        self.cy = mod.TOPICS_CY
        self.pl = mod.TOPICS_PL
        self.notes = mod.NOTES
        self.prefix = prefixes

    def customer(self, reason: str, ftype: str, lang: str, pii: dict[str, str] | None = None,
                 policy: bool = False, length: int = 1, hostile: bool = False) -> str:
        """A customer's words about ``reason``; ``ftype`` '' for value demand."""
        r = self.r
        slots = _slots(r, self.prefix[reason])
        if lang == "cy":
            t = r.choice(CY_FRAMES).format(t=self.cy[reason])
            if r.random() < 0.3:
                t += " " + r.choice(["Diolch.", "Cofion, ", "Mae hyn yn annerbyniol."])
            return t
        if lang == "pl":
            return r.choice(PL_FRAMES).format(t=self.pl[reason]) + r.choice(["", " Dziękuję.", " Pozdrawiam."])
        parts = [r.choice(OPENINGS)]
        probs = self.problems[reason]
        if ftype and r.random() < 0.5:
            parts.append(r.choice(FAILURE[ftype]))
            parts.append(r.choice(probs))
        else:
            parts.append(r.choice(probs))
            if ftype:
                parts.append(r.choice(FAILURE[ftype]))
        # the new letter's confusion is what makes the policy's failure demand: value contacts do not voice it
        if policy and ftype and reason in POLICY and r.random() < 0.6:
            parts.append(r.choice(POLICY[reason]))
        for _ in range(length - 1):
            parts.append(r.choice(probs + FAILURE[ftype] if ftype else probs))
        if r.random() < 0.35:
            parts.append(r.choice(CONTEXT))
        if r.random() < 0.4:
            parts.append(r.choice(EMOTION))
        if pii:
            parts.append(r.choice(PII))
        text = (parts[0] + " ".join(_punct(p.strip(), r) for p in parts[1:] if p)).format(**slots, **(pii or {}))
        if r.random() < 0.15:
            text = text.lower()
        if hostile:
            text = r.choice(HOSTILE).format(t=text)
        return text

    def note(self, reason: str, ftype: str) -> str:
        r = self.r
        u = r.random()
        if u < 0.12:
            return ""
        base = r.choice(self.notes[reason])
        act = r.choice(AGENT_ACTIONS["failure" if ftype else "value"])
        out = f"{base} - {act}" if u < 0.8 else f"{base.upper()} {act}"
        if ftype == "chasing_progress" and r.random() < 0.4:
            out += f", {r.randint(2, 4)}nd call"
        return out

    def reply(self) -> str:
        return self.r.choice(AGENT_REPLIES)

    def bot(self, i: int) -> str:
        return BOT[min(i, len(BOT) - 1)]

    def signoff(self, name: str, phone: str) -> str:
        r = self.r
        s = f"\n\n{r.choice(SIGNOFFS)}\n{name}"
        if phone and r.random() < 0.5:
            s += f"\nTel: {phone}" if r.random() < 0.5 else f"\nMob {phone}"
        return s

    def quoted(self, org: str, n: int) -> str:
        """Quoted reply history (long email chains)."""
        r = self.r
        out = []
        for i in range(n):
            out.append(f"\n\nOn {r.randint(1, 28)}/{r.randint(1, 12)}/2025, {org} Customer Services wrote:\n> "
                       + "\n> ".join(r.choice(AGENT_REPLIES) for _ in range(4))
                       + "\n> This mailbox is monitored Monday to Friday 9am to 5pm. Emails may be recorded. "
                       * (1 + i % 3)
                       + ("\n> " + " ".join(r.choice(FILLER) for _ in range(12)) if n > 3 else ""))
        return "".join(out)

    def comment(self, reason: str, top: bool, ftype: str) -> str:
        r = self.r
        if top:
            return r.choice(["Very helpful, thank you", "Sorted first time", "Quick and friendly",
                             "The lady I spoke to was lovely", "Easy", "Good service", "no complaints",
                             "Took a while to get through but sorted in the end"])
        return r.choice(["Still waiting", "Had to ring three times", "Nobody listens",
                         "Passed from pillar to post", "The website is useless", "Waste of time",
                         "Hold time was ridiculous"]) + " " + r.choice(self.problems[reason]).format(
            **_slots(r, self.prefix[reason]))
