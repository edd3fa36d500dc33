"""Name, street and town pools for the synthetic population (UK-flavoured, partly procedural)."""

from __future__ import annotations

FEMALE = """Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence Emily
Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper Matilda Ruby Emilia
Maya Millie Isabelle Eva Luna Jessica Aria Esme Elizabeth Margaret Susan Patricia Linda Barbara Jennifer
Mary Karen Sarah Nancy Lisa Sandra Helen Deborah Rachel Carol Julie Joanne Claire Nicola Michelle Emma
Louise Gemma Kelly Laura Rebecca Hannah Victoria Amy Kirsty Lauren Zoe Chloe Megan Natalie Leanne Donna
Dawn Tracey Sharon Jacqueline Christine Pauline Janet Anne Jean Catherine Christina Diane Denise Gillian
Hazel Irene Jane Joan Joyce Kathleen Lorraine Lynn Maureen Wendy Valerie Sheila Shirley Tina Yvonne
Abigail Beth Bethany Caitlin Chantelle Courtney Danielle Eleanor Fiona Georgia Harriet Holly Imogen Jade
Jasmine Jodie Katie Kayleigh Leah Lucy Molly Naomi Paige Rhiannon Samantha Shannon Stacey Stephanie Tegan
Aisha Fatima Amira Zainab Maryam Ayesha Noor Priya Anjali Sunita Kaur Simran Nadia Yasmin Sana Agnieszka
Katarzyna Magdalena Joanna Aleksandra Monika Anna Ewa Ioana Elena Andreea Gabriela Siobhan Niamh Aoife
Ciara Sinead Bronwen Cerys Ffion Nia Seren Angharad Carys Eira Gwen Lowri Megan Heledd Morag Kirsteen
Ailsa Iona Eilidh Bernadette Brenda Doreen Edna Eileen Gladys Hilda Ivy Marjorie Muriel Olive Rita Vera
Zoë Renée Chloé Siân Noémie Anaïs Beatriz Inés""".split()

MALE = """Oliver George Noah Arthur Muhammad Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie
Theo Alfie Jacob Thomas Finley Arlo William Lucas Roman Tommy Isaac Teddy Alexander Luca Edward James
Joshua Albie Elijah Max Mohammed Reggie Hudson Sebastian Ethan Joseph David John Michael Robert Richard
Paul Mark Stephen Andrew Peter Christopher Daniel Matthew Anthony Kevin Gary Ian Neil Simon Martin Lee
Darren Craig Wayne Dean Jason Carl Stuart Graham Keith Trevor Barry Brian Colin Derek Dennis Frank Gordon
Harold Kenneth Leonard Malcolm Norman Raymond Roy Ronald Stanley Terence Walter Adam Ben Callum Connor
Dylan Jamie Jordan Kieran Liam Luke Nathan Owen Ryan Sam Scott Tyler Ahmed Ali Bilal Hassan Imran Omar
Tariq Usman Zain Arjun Raj Sanjay Vikram Harpreet Gurpreet Piotr Tomasz Krzysztof Pawel Marek Andrzej
Jakub Michal Lukasz Andrei Mihai Ionut Bogdan Sean Ciaran Declan Eoin Padraig Connor Rhys Dafydd Gethin
Iwan Llyr Osian Rhodri Aled Emyr Geraint Huw Idris Alasdair Angus Calum Euan Fraser Hamish Murray Ross
Alan Bernard Clive Cyril Donald Douglas Eric Ernest Geoffrey Gerald Howard Leslie Nigel Philip Reginald
Roger Rodney Russell Shaun Tony Victor Vincent Warren Glyn Dominic Elliot Felix Gabriel Hugo Jude Kai
Louis Miles Rory Toby Zachary José Andrés Zoltán René""".split()

#: Formal name -> common short forms.
NICKNAMES: dict[str, list[str]] = {
    "William": ["Bill", "Will", "Billy"], "Elizabeth": ["Liz", "Beth", "Lizzie"], "Robert": ["Bob", "Rob", "Bobby"],
    "Margaret": ["Maggie", "Peggy", "Meg"], "Richard": ["Dick", "Rich"], "James": ["Jim", "Jimmy", "Jamie"],
    "Michael": ["Mike", "Mick"], "Christopher": ["Chris", "Kit"], "Katarzyna": ["Kasia"], "Catherine": ["Cath", "Kate"],
    "Jennifer": ["Jen", "Jenny"], "Patricia": ["Pat", "Trish"], "Stephen": ["Steve"], "Anthony": ["Tony"],
    "Edward": ["Ed", "Eddie", "Ted"], "Alexander": ["Alex", "Sandy"], "Thomas": ["Tom", "Tommy"], "Joseph": ["Joe"],
    "Daniel": ["Dan", "Danny"], "Matthew": ["Matt"], "Andrew": ["Andy", "Drew"], "Samantha": ["Sam"],
    "Rebecca": ["Becky", "Becca"], "Victoria": ["Vicky", "Tori"], "Jacqueline": ["Jackie"], "Christine": ["Chris"],
    "Deborah": ["Debbie", "Deb"], "Susan": ["Sue", "Susie"], "Kathleen": ["Kath", "Kathy"], "Nicola": ["Nicky"],
    "Samuel": ["Sam"], "Benjamin": ["Ben"], "Frederick": ["Fred", "Freddie"], "Kenneth": ["Ken", "Kenny"],
    "Leonard": ["Len", "Lenny"], "Ronald": ["Ron", "Ronnie"], "Terence": ["Terry"], "Raymond": ["Ray"],
    "Gerald": ["Gerry"], "Geoffrey": ["Geoff"], "Philip": ["Phil"], "Douglas": ["Doug"], "Donald": ["Don"],
    "Alasdair": ["Ali"], "Abigail": ["Abby"], "Eleanor": ["Ellie", "Nell"], "Isabella": ["Bella", "Izzy"],
    "Charlotte": ["Lottie", "Charlie"], "Florence": ["Flo"], "Matilda": ["Tilly"], "Agnieszka": ["Aga"],
    "Magdalena": ["Magda"], "Aleksandra": ["Ola"], "Dafydd": ["Dai"], "Angharad": ["Haz"],
}

SURNAMES_REAL = """Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson
Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill
Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price
Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox
Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray
Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker
Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews
Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley
Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes
Hart Hudson Newman Barrett Gregory Lowe Jennings Dean Sutton Kowalski Nowak Wisniewski Wojcik Kaminski
Lewandowski Zielinski Szymanski Popescu Ionescu Nguyen Chen Wong Okafor Adeyemi Mensah Osei Nwosu Mahmood
Iqbal Rahman Chaudhry Sharma Gupta Mistry Desai Joshi O'Connor O'Neill McCarthy Doyle Byrne Gallagher
MacDonald MacLeod McKenzie Fraser Sinclair Pritchard Vaughan Llewellyn Bowen Parry Jenkins Meredith Prosser
Hopkins Howells Rowlands Gwynne Bevan Probert Beddoe Müller Núñez Gómez Peña Brontë Désiré""".split()

SURNAME_ROOTS = """Ash Black Brad Bram Brook Burn Cald Carr Chap Church Clay Cliff Cold Crab Cross Dal Dart
Den Dun Eld Fair Farn Fen Fern Ford Gold Gran Green Greg Ham Har Hart Hasel Hather Haw Hay Heath Hol Horn
Hunt Kent Kings Knott Lang Lath Lea Lind Lock Long Lyn Marsh Mel Mid Mill Moss Nor Oak Orm Pack Pen Pick
Rad Ray Red Rook Ros Row Rush Sal Sand Shaw Shel Stan Stock Ston Strat Sud Sum Thorn Thur Tod Under War
Wat Well Wen West Whit Wick Win Wol Wood Wor Yar""".split()

SURNAME_SUFFIXES = """by ley ton ford worth field well wood well ham ington combe stead bury croft dale
hurst more shaw thorpe wick bridge land well lake well ridge""".split()

STREET_ROOTS = """Acacia Albert Alder Ash Aspen Beech Birch Blackthorn Bramble Briar Cedar Chapel Cherry
Chestnut Church Clover Coronation Cromwell Dale Elm Fairfield Fern Foxglove Garden Gladstone Granby Hawthorn
Hazel Heather High Hill Holly Ivy Juniper Kingsway Laburnum Larch Laurel Lilac Lime Linden Maple Market
Meadow Mill Moor Mulberry Nelson Oak Orchard Park Poplar Primrose Priory Queens Railway Regent Rowan School
Spring Station Sycamore Tanner Thistle Tudor Victoria Willow Windsor Wood Yew Abbey Bridge Castle Forge
Quarry Ridge Riverside St Mary's St John's Well Wharf Beacon Brook Crown Eastgate Glebe Grange Harbour
Lancaster Manor Mount Newlands Northgate Rectory Southgate Vicarage Westgate""".split()

STREET_TYPES = ["Road", "Street", "Lane", "Close", "Avenue", "Drive", "Way", "Crescent", "Court", "Gardens",
                "Grove", "Terrace", "Place", "View", "Walk", "Rise", "Mews"]

TOWNS = ["Dunmore", "Wexley", "Calderbrook", "Ashby Vale", "Hollinwell", "Sedgecombe", "Marrowby",
         "Felsham", "Kirkhallam", "Brenton Cross", "Oakhurst", "Tamworth Green"]

EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "inbox.example.net",
                 "brightmail.example", "postmore.example", "wexleynet.example"]


def surnames() -> list[str]:
    """About 2,500 distinct surnames: real ones plus procedural root+suffix compounds."""
    seen: dict[str, None] = {}
    for s in SURNAMES_REAL:
        seen.setdefault(s, None)
    for r in SURNAME_ROOTS:
        for suf in SURNAME_SUFFIXES:
            name = r + suf
            if len(name) >= 5 and not name.endswith("ll" + "well"):
                seen.setdefault(name, None)
    return list(seen)


def first_names() -> tuple[list[str], list[str]]:
    return list(dict.fromkeys(FEMALE)), list(dict.fromkeys(MALE))
