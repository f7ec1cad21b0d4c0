//! The generator's whole word inventory.
//!
//! Small on purpose: a few hundred words, so that every meaningful one occurs well over the
//! vocabulary's minimum frequency (20) in the training reviews of the default dataset, and each
//! word group carries exactly one planted signal.

/// A product genre: it sets the image hue, the product nouns and the context words.
#[derive(Debug, Clone, Copy)]
pub struct Genre {
    pub name: &'static str,
    /// Hue of the product in its image, degrees on the colour wheel.
    pub hue_degrees: f64,
    /// What the products are called; an item keeps one for its title and reviews.
    pub nouns: &'static [&'static str],
    /// Things people use products of this genre for or with (nouns, for the templates).
    pub context: &'static [&'static str],
    pub brands: &'static [&'static str],
}

/// Six genres, 60° apart on the colour wheel so that the image hue separates them.
pub const GENRES: [Genre; 6] = [
    Genre {
        name: "Kitchen",
        hue_degrees: 0.0,
        nouns: &[
            "skillet", "kettle", "blender", "spatula", "saucepan", "grater", "whisk", "colander",
        ],
        context: &[
            "cooking",
            "recipes",
            "dishwasher",
            "stovetop",
            "baking",
            "dinner",
            "pasta",
        ],
        brands: &[
            "Café Royale",
            "Panmaster",
            "Chefline",
            "Brio Kitchen",
            "Ovenly",
        ],
    },
    Genre {
        name: "Toys",
        hue_degrees: 60.0,
        nouns: &[
            "puzzle", "doll", "blocks", "robot", "kite", "marbles", "figurine", "playset",
        ],
        context: &[
            "kids",
            "playtime",
            "imagination",
            "grandson",
            "toddler",
            "birthday",
            "nursery",
        ],
        brands: &[
            "Playwise",
            "Tinker Tots",
            "Jolly Jumble",
            "Kiddo Works",
            "Wondertoy",
        ],
    },
    Genre {
        name: "Garden",
        hue_degrees: 120.0,
        nouns: &[
            "hose",
            "trowel",
            "planter",
            "sprinkler",
            "pruner",
            "rake",
            "seeder",
            "shears",
        ],
        context: &[
            "soil", "watering", "backyard", "blooms", "lawn", "weeds", "patio",
        ],
        brands: &[
            "Greenfold",
            "Rootwell",
            "Bloomfield Co",
            "Terra Nova",
            "Hedgerow",
        ],
    },
    Genre {
        name: "Outdoor",
        hue_degrees: 180.0,
        nouns: &[
            "tent", "backpack", "lantern", "hammock", "canteen", "compass", "tarp", "cooler",
        ],
        context: &[
            "hiking", "camping", "trail", "campsite", "rain", "weekend", "picnic",
        ],
        brands: &[
            "Ridgeway",
            "Summit Trek",
            "Northbound",
            "Pinecrest",
            "Wildpath",
        ],
    },
    Genre {
        name: "Audio",
        hue_degrees: 240.0,
        nouns: &[
            "headphones",
            "speaker",
            "amplifier",
            "earbuds",
            "microphone",
            "turntable",
            "subwoofer",
            "receiver",
        ],
        context: &[
            "bass",
            "treble",
            "volume",
            "playback",
            "stereo",
            "bluetooth",
            "podcasts",
        ],
        brands: &[
            "Sonora",
            "Bassline",
            "Clearwave",
            "Decibel Labs",
            "Tonic Audio",
        ],
    },
    Genre {
        name: "Beauty",
        hue_degrees: 300.0,
        nouns: &[
            "lotion",
            "shampoo",
            "perfume",
            "serum",
            "hairbrush",
            "lipstick",
            "moisturizer",
            "cleanser",
        ],
        context: &[
            "skin",
            "scent",
            "hair",
            "fragrance",
            "shower",
            "makeup",
            "curls",
        ],
        brands: &[
            "Élan",
            "Velvet Rose",
            "Purely Yours",
            "Lumière",
            "Glow Theory",
        ],
    },
];

/// An aspect of a product that users weigh by taste: words for the item doing well or badly on it.
#[derive(Debug, Clone, Copy)]
pub struct Aspect {
    pub name: &'static str,
    pub good: &'static [&'static str],
    pub bad: &'static [&'static str],
}

pub const ASPECTS: [Aspect; 4] = [
    Aspect {
        name: "durability",
        good: &["sturdy", "durable", "solid", "robust", "reliable"],
        bad: &["flimsy", "fragile", "shoddy", "wobbly", "breakable"],
    },
    Aspect {
        name: "design",
        good: &["elegant", "sleek", "stylish", "beautiful", "attractive"],
        bad: &["ugly", "bulky", "clunky", "awkward", "dated"],
    },
    Aspect {
        name: "value",
        good: &[
            "affordable",
            "bargain",
            "worthwhile",
            "inexpensive",
            "economical",
        ],
        bad: &["overpriced", "pricey", "expensive", "costly", "ripoff"],
    },
    Aspect {
        name: "usability",
        good: &["intuitive", "convenient", "handy", "simple", "comfortable"],
        bad: &[
            "confusing",
            "complicated",
            "cumbersome",
            "uncomfortable",
            "tricky",
        ],
    },
];

/// Sentiment words by star rating (index 0 is 1★): tied to the rating of the review they are in.
/// All adjectives, so that every template reads as English.
pub const SENTIMENT: [&[&str]; 5] = [
    &[
        "terrible",
        "awful",
        "horrible",
        "useless",
        "dreadful",
        "defective",
        "worthless",
        "pathetic",
    ],
    &[
        "disappointing",
        "poor",
        "lacking",
        "flawed",
        "subpar",
        "annoying",
        "inferior",
        "underwhelming",
    ],
    &[
        "okay",
        "average",
        "decent",
        "mediocre",
        "acceptable",
        "alright",
        "ordinary",
        "passable",
    ],
    &[
        "good",
        "nice",
        "pleasant",
        "useful",
        "enjoyable",
        "satisfying",
        "lovely",
        "fine",
    ],
    &[
        "excellent",
        "amazing",
        "perfect",
        "fantastic",
        "awesome",
        "wonderful",
        "superb",
        "brilliant",
    ],
];

/// Style words by user-bias quartile (index 0: harshest raters): each user adopts two of one
/// group and uses them throughout, so a user's review history reveals the user's bias.
pub const STYLE: [&[&str]; 4] = [
    &[
        "frankly",
        "unfortunately",
        "however",
        "sadly",
        "supposedly",
        "barely",
    ],
    &[
        "admittedly",
        "somewhat",
        "arguably",
        "reasonably",
        "mostly",
        "fairly",
    ],
    &[
        "overall",
        "definitely",
        "certainly",
        "quite",
        "pretty",
        "surely",
    ],
    &[
        "absolutely",
        "totally",
        "truly",
        "super",
        "incredibly",
        "seriously",
    ],
];

/// Metadata words by quality tier (index 0: lowest quality), tied to the planted item quality.
pub const QUALITY_TIERS: [&[&str]; 3] = [
    &["budget", "basic", "economy", "starter"],
    &["classic", "standard", "everyday", "original"],
    &["premium", "deluxe", "professional", "luxury"],
];

/// Words that carry no planted signal.
pub const PEOPLE: &[&str] = &[
    "wife", "husband", "son", "daughter", "friend", "mother", "father", "neighbor",
];
pub const PERIODS: &[&str] = &["week", "month", "year", "day"];

/// Summaries Amazon shoppers write when they cannot be bothered, by star rating.
pub const STAR_SUMMARIES: [&str; 5] = [
    "One Star",
    "Two Stars",
    "Three Stars",
    "Four Stars",
    "Five Stars",
];

/// Review sentence templates. Slots: `{S}` sentiment word, `{N}` the item's noun, `{G}` a
/// genre context word, `{A}` an aspect word, `{Y}` one of the user's style words, `{P}` a
/// person, `{T}` a period. Sentences are capitalised and ended when written.
pub const REVIEW_TEMPLATES: &[&str] = &[
    "{Y} this {N} is {S}",
    "i bought this {N} for {G} and it is {S}",
    "the {N} feels {A} and looks {A}",
    "{S} {N} and {A} too",
    "it works with my {G} and the {G} is {S}",
    "after a {T} of use it still seems {A}",
    "{Y} {S} for the price",
    "my {P} says it is {S}",
    "i use it for {G} every {T}",
    "the {G} was {S} and the {N} is {A}",
    "it arrived quickly and was {S}",
    "{Y} i think it is {A} and {S}",
    "we got this for our {G} and my {P} thinks it is {A}",
    "compared to my old {N} this one is {S}",
    "it is {Y} {S} but a little {A}",
];

/// First names for reviewer names; a few have non-ASCII letters, as real names do.
pub const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Margaret",
    "Steven",
    "Sandra",
    "Paul",
    "Ashley",
    "Andrew",
    "Kimberly",
    "Joshua",
    "Emily",
    "José",
    "Zoë",
    "Renée",
    "Björn",
    "Chloé",
    "André",
    "Siobhan",
    "Wei",
    "Priya",
    "Kenji",
];

pub const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Müller",
    "O'Brien",
    "Nguyen",
    "Kowalski",
];

pub const NICKNAMES: &[&str] = &[
    "bargain hunter",
    "Happy Shopper",
    "audiophile",
    "Gadget Guy",
    "book lover",
    "mom of three",
    "weekend warrior",
    "retired teacher",
    "Amazon Customer",
    "kitchen nerd",
];
