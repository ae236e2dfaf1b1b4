"""Synthetic, benign ads with planted networks, for tests and benchmarks.

Texts are neutral services wording (cleaning, tutoring, massage therapy, gardening, ...). A
network shares a template (each ad changes 1 to 4 slots and gets a few random word edits) and a
phone number that each ad writes in a different, often obfuscated, way. Singletons have their own
template and number. A "site" number appears in many unrelated ads to exercise the hub cap.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers

from safeguard.ads.phones import NUMBER_WORDS
from safeguard.ads.records import Ad

SERVICES = ["home cleaning", "deep cleaning", "maths tutoring", "piano lessons", "dog walking",
            "pet sitting", "gardening", "ironing", "massage therapy", "sports massage",
            "language lessons", "cooking classes", "window cleaning", "bookkeeping help",
            "furniture assembly", "guitar lessons", "yoga classes", "house sitting",
            "computer repair", "hair styling", "nail care", "tailoring", "photography",
            "moving help", "painting and decorating", "childminding advice", "carpet cleaning"]
CITIES = ["Leeds", "Manchester", "Bristol", "Cardiff", "Glasgow", "Liverpool", "Leicester",
          "Brighton", "Oxford", "Cambridge", "Norwich", "Exeter", "York", "Bath", "Derby",
          "Dallas", "Denver", "Boston", "Chicago", "Atlanta", "Houston", "Phoenix", "Austin"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
        "weekdays", "weekends", "every day", "evenings", "mornings"]
ADJECTIVES = ["friendly", "calm", "careful", "punctual", "experienced", "patient", "tidy",
              "cheerful", "professional", "relaxed", "flexible", "thorough", "quiet"]
EXTRAS = ["free parking nearby", "own equipment provided", "eco friendly products",
          "references on request", "card payments accepted", "gift vouchers available",
          "home visits possible", "discount for students", "first visit half price",
          "wheelchair accessible studio", "bring a friend offer", "loyalty card scheme"]
SENTENCES = [
    "{adj} {service} in {city} with over {n} years of practice",
    "available {day} from {time} until late",
    "book your {service} today and enjoy a {adj} visit",
    "I offer {service} at your home or at my {adj} studio",
    "prices start at {price} pounds for one hour",
    "call or text to arrange a time that suits you",
    "{extra} and a warm welcome",
    "new clients in {city} always welcome",
    "my {adj} approach puts people at ease",
    "sessions last {n} minutes and can be extended",
    "please give one day notice to cancel",
    "serving {city} and nearby towns since {year}",
    "contact me for a quote on {service}",
    "{extra} for all bookings this month",
    "a {adj} and reliable service you can count on",
    "open {day} with short notice bookings",
    "ask about the {service} package deals",
    "satisfaction guaranteed or your next visit is free",
    "clean and quiet premises near the {city} station",
    "happy to answer any questions before you book",
    "i speak english spanish and some french",
    "visiting {city} for {n} days only",
    "all materials included in the price",
    "please message first with your preferred time",
    "group bookings of up to {n} people possible",
    "follow my page for {adj} tips and updates",
]
# Template-specific wording: each template sprinkles a few of these into its sentences, so
# unrelated templates built from the same sentence pool still read differently.
FILLERS = (
    "really", "truly", "simply", "kindly", "warmly", "gladly", "always", "often", "usually",
    "lovely", "great", "good", "modern", "local", "central", "quiet", "bright", "clean",
    "cosy", "spacious", "private", "small", "large", "new", "trusted", "skilled", "qualified",
    "certified", "careful", "gentle", "honest", "caring", "helpful", "easy", "quick",
    "affordable", "fair", "fixed", "weekly", "monthly", "daily", "early", "late", "today",
    "tomorrow", "soon", "also", "too", "here", "there", "nearby", "downtown", "uptown",
    "city", "town", "village", "garden", "studio", "office", "room", "service", "support",
    "session", "visit", "booking", "appointment", "offer", "plan", "option", "choice"
)
_STYLES = ["plain", "dots", "spaced", "words-en", "words-es", "words-fr", "mixed", "letters",
           "fullwidth", "math", "keycap", "stars", "zero-width", "plus"]


@dataclass(frozen=True, slots=True)
class PlantedAd:
    ad: Ad
    network: int  # -1 for a singleton
    phones: tuple[str, ...]  # E.164 numbers written in the text
    obfuscated: bool  # whether the written phone uses an obfuscation style


@dataclass
class _Template:
    sentences: list[str]
    values: dict[str, str]


def random_phone(rng: random.Random) -> tuple[str, str]:
    """(E.164, national digits) of a valid US number."""
    while True:
        national = f"{rng.choice(['201', '212', '305', '312', '415', '617', '702', '917'])}" \
                   f"{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        number = phonenumbers.parse(national, "US")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), national


def write_phone(national: str, style: str, rng: random.Random) -> str:
    """Write a 10-digit US number in one of the obfuscation styles."""
    a, b, c = national[:3], national[3:6], national[6:]
    words = {lang: {v: k for k, v in NUMBER_WORDS.items() if k in names}
             for lang, names in _LANG_WORDS.items()}
    if style == "plain":
        return f"({a}) {b}-{c}"
    if style == "dots":
        return f"{a}.{b}.{c}"
    if style == "spaced":
        return " ".join(national)
    if style.startswith("words-"):
        table = words[style[-2:]]
        return " ".join(table[d] for d in national)
    if style == "mixed":
        return " ".join(words["en"][d] if rng.random() < 0.5 else d for d in national)
    if style == "letters":
        return f"{a}-{b}-{c}".replace("0", "O").replace("1", "l")
    if style == "fullwidth":
        return "".join(chr(0xFF10 + int(d)) for d in a) + " " + b + " " + c
    if style == "math":
        return f"{a} " + "".join(chr(0x1D7CE + int(d)) for d in b) + f" {c}"
    if style == "keycap":
        return "".join(f"{d}\ufe0f\u20e3" for d in a) + f" {b} {c}"
    if style == "stars":
        return f"{a}*{b}*{c}"
    if style == "zero-width":
        return "\u200b".join(national)
    return f"+1 {a} {b} {c}"


_LANG_WORDS = {
    "en": {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"},
    "es": {"cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"},
    "fr": {"zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"},
}


def generate(count: int, *, seed: int = 7, network_share: float = 0.4,
             hub_share: float = 0.01) -> list[PlantedAd]:
    """`count` ads; about `network_share` of them in planted networks of 2 to 20 ads."""
    return list(iter_generate(count, seed=seed, network_share=network_share,
                              hub_share=hub_share))


def iter_generate(count: int, *, seed: int = 7, network_share: float = 0.4,
                  hub_share: float = 0.01) -> Iterator[PlantedAd]:
    """The ads of `generate`, one at a time (a million of them need not sit in memory)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not security
    made = 0
    _, hub_national = random_phone(rng)
    network = 0
    while made < count:
        if rng.random() < network_share / 5:  # networks average ~11 ads, singletons 1
            size = min(rng.randint(2, 20), count - made)
            base = _new_template(rng)
            phones = [random_phone(rng) for _ in range(rng.randint(1, 2))]
            for _ in range(size):
                template = _vary(base, rng.randint(1, 4), rng)
                with_phone = rng.random() < 0.7
                yield _make(made, template, phones if with_phone else [], network,
                            rng, hub_national, hub_share)
                made += 1
            network += 1
        else:
            yield _make(made, _new_template(rng), [random_phone(rng)], -1, rng,
                        hub_national, hub_share)
            made += 1


def _new_template(rng: random.Random) -> _Template:
    sentences = []
    for index in rng.sample(range(len(SENTENCES)), rng.randint(6, 9)):
        words = SENTENCES[index].split(" ")
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randint(0, len(words)), rng.choice(FILLERS))
        sentences.append(" ".join(words))
    return _Template(sentences, {slot: _fill(slot, rng) for slot in _SLOTS})


_SLOTS = ("adj", "service", "city", "n", "day", "time", "price", "year", "extra")


def _fill(slot: str, rng: random.Random) -> str:
    match slot:
        case "adj":
            return rng.choice(ADJECTIVES)
        case "service":
            return rng.choice(SERVICES)
        case "city":
            return rng.choice(CITIES)
        case "n":
            return str(rng.randint(2, 60))
        case "day":
            return rng.choice(DAYS)
        case "time":
            return f"{rng.randint(6, 12)} am"
        case "price":
            return str(rng.randrange(20, 200, 5))
        case "year":
            return str(rng.randint(1995, 2024))
        case _:
            return rng.choice(EXTRAS)


def _vary(base: _Template, slots: int, rng: random.Random) -> _Template:
    values = dict(base.values)
    for slot in rng.sample(_SLOTS, slots):
        values[slot] = _fill(slot, rng)
    return _Template(base.sentences, values)


def _make(index: int, template: _Template, phones: list[tuple[str, str]], network: int,
          rng: random.Random, hub_national: str, hub_share: float) -> PlantedAd:
    sentences = [sentence.format(**template.values) for sentence in template.sentences]
    words = ". ".join(sentences).split(" ")
    for _ in range(rng.randint(0, 2)):  # random edits: drop, duplicate or swap a word
        at = rng.randrange(len(words))
        edit = rng.random()
        if edit < 0.33 and len(words) > 5:
            del words[at]
        elif edit < 0.66:
            words.insert(at, words[at])
        elif at + 1 < len(words):
            words[at], words[at + 1] = words[at + 1], words[at]
    text = " ".join(words) + "."
    written: list[str] = []
    obfuscated = False
    for e164, national in phones:
        style = rng.choice(_STYLES)
        obfuscated = obfuscated or style not in ("plain", "dots", "plus")
        written.append(e164)
        text += f" Contact {write_phone(national, style, rng)}."
    if rng.random() < hub_share:
        text += f" Site helpline {write_phone(hub_national, 'plain', rng)}."
    text = unicodedata.normalize("NFC", text)
    ad = Ad(site="synthetic", ad_id=f"ad{index:07d}", text=text, title="",
            location=template.values["city"], region="US")
    return PlantedAd(ad, network, tuple(written), obfuscated)
