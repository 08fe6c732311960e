//! Word lists the generator draws names, descriptions and tags from. Fixed slices, so the
//! output depends only on the seed.

pub(super) const ADJECTIVES: &[&str] = &[
    "velvet", "electric", "silver", "midnight", "golden", "crimson", "wild", "quiet", "neon",
    "broken", "northern", "burning", "hollow", "lucky", "restless", "frozen", "cosmic",
    "little", "royal", "savage", "gentle", "iron", "lunar", "scarlet", "wandering", "hidden",
    "paper", "glass", "thunder", "copper", "dusty", "brave", "blue", "black", "white",
    "bright", "sunken", "secret", "faded", "endless", "howling", "sleepy", "rapid", "ancient",
];

pub(super) const NOUNS: &[&str] = &[
    "foxes", "hearts", "rivers", "engines", "lanterns", "wolves", "echoes", "satellites",
    "kings", "strangers", "pilots", "mirrors", "horses", "ghosts", "sparrows", "comets",
    "giants", "dreamers", "tigers", "orchards", "harbors", "saints", "shadows", "monarchs",
    "tides", "ravens", "machines", "poets", "bandits", "drifters", "lions", "owls", "storms",
    "cathedrals", "gardens", "rockets", "islands", "voices", "thieves", "sailors",
];

pub(super) const FIRST_NAMES: &[&str] = &[
    "Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farah", "Gustav", "Hana", "Ivan", "Jade",
    "Kofi", "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Quinn", "Rosa", "Sami", "Tara",
    "Umar", "Vera", "Wes", "Xiu", "Yara", "Zane", "Amara", "Bruno", "Carmen", "Diego",
    "Eva", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Kaia", "Leo", "Mila", "Nico",
];

pub(super) const LAST_NAMES: &[&str] = &[
    "Abe", "Baker", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe",
    "Rossi", "Silva", "Tanaka", "Umarov", "Varga", "Walsh", "Xu", "Yilmaz", "Zimmermann",
    "Adeyemi", "Bianchi", "Costa", "Novak", "Moreno", "Schmidt", "Hughes", "Kim", "Park",
];

pub(super) const CONCERT_GENRES: &[&str] = &[
    "indie rock", "jazz", "hip hop", "classical", "electronic", "folk", "metal", "pop",
    "soul", "country", "blues", "reggae", "punk", "latin", "ambient",
];
pub(super) const SPORTS_GENRES: &[&str] = &[
    "basketball", "football", "soccer", "hockey", "baseball", "tennis", "rugby", "boxing",
    "volleyball", "cricket",
];
pub(super) const THEATER_GENRES: &[&str] = &[
    "musical", "drama", "opera", "ballet", "tragedy", "farce", "cabaret",
];
pub(super) const COMEDY_GENRES: &[&str] = &["stand-up", "improv", "sketch", "satire", "roast"];

pub(super) const TEAM_NOUNS: &[&str] = &[
    "United", "Rovers", "Thunder", "Falcons", "Mariners", "Titans", "Comets", "Rangers",
    "Wanderers", "Storm", "Athletic", "Bulls", "Knights", "Owls", "Royals", "Pirates",
];

pub(super) const CONCERT_TAGS: &[&str] = &[
    "live", "tour", "acoustic", "all-ages", "seated", "standing", "outdoor", "vinyl-release",
    "encore", "late-show",
];
pub(super) const SPORTS_TAGS: &[&str] = &[
    "league", "playoffs", "derby", "final", "family", "season-opener", "rivalry", "cup",
];
pub(super) const THEATER_TAGS: &[&str] = &[
    "premiere", "matinee", "classic", "award-winning", "family", "new-production", "revival",
];
pub(super) const COMEDY_TAGS: &[&str] = &[
    "18-plus", "late-show", "special-taping", "new-material", "headliner", "open-mic",
];
pub(super) const FESTIVAL_TAGS: &[&str] = &[
    "multi-day", "camping", "outdoor", "lineup", "food-trucks", "all-ages", "weekend-pass",
];

pub(super) const VENUE_KINDS: &[&str] = &[
    "Arena", "Hall", "Theatre", "Stadium", "Club", "Amphitheater", "Ballroom", "Pavilion",
    "Opera House", "Dome", "Forum", "Lounge",
];

pub(super) const SECTION_KINDS: &[&str] = &[
    "Floor", "Orchestra", "Mezzanine", "Balcony", "Lower Bowl", "Upper Bowl", "Terrace",
    "Box", "Stalls", "Gallery", "Club Level", "Circle",
];

pub(super) const TOUR_WORDS: &[&str] = &[
    "World Tour", "Farewell Tour", "Live", "Anniversary Show", "Unplugged", "Homecoming",
    "Night Session", "Summer Tour", "Winter Tour", "Album Release Show",
];

pub(super) const SHOW_TITLES: &[&str] = &[
    "The Last Summer", "A Door Left Open", "Salt and Honey", "The Long Goodbye", "Paper Moon",
    "The Glass Orchard", "Northern Lights", "The Understudy", "Waiting for Rain",
    "A Winter's Promise", "The Clockmaker", "Letters Home", "The Silver Key", "Open Water",
];

pub(super) const FESTIVAL_WORDS: &[&str] = &[
    "Sound", "Sun", "Harbor", "Field", "Valley", "Riverside", "Moonrise", "Wavelength",
    "Horizon", "Echo", "Solstice", "Heatwave",
];

pub(super) const DESCRIPTION_OPENERS: &[&str] = &[
    "An unforgettable night", "A rare evening", "A sold-out favourite returns",
    "The show everyone is talking about", "A celebration", "An intimate performance",
    "A high-energy spectacle", "A night of surprises", "The long-awaited return",
];

pub(super) const DESCRIPTION_CLOSERS: &[&str] = &[
    "Doors open one hour before the start.",
    "Food and drinks are available throughout the venue.",
    "Tickets are limited; hold yours early.",
    "Accessible seating is available in every section.",
    "Expect a few surprises along the way.",
    "Photography without flash is welcome.",
    "Merchandise will be sold at the venue.",
];

pub(super) const BIO_TEMPLATES: &[&str] = &[
    "Known for {g} that fills rooms and empties the mind.",
    "Rising fast on the {g} circuit after a breakout year.",
    "Veterans of {g}, still hungry after a decade on the road.",
    "Critics call it the most exciting {g} act of the season.",
    "Bringing {g} to new audiences, one city at a time.",
];
