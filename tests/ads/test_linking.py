import random

from safeguard.ads.extract import extract
from safeguard.ads.linking import LinkConfig, Linker
from safeguard.ads.records import make_ad
from safeguard.ads.synthetic import generate
from safeguard.ads.template import template_view


def ad(i: int, text: str, **fields):
    return make_ad({"site": "s", "id": str(i), "text": text, "region": "US", **fields})


def link(ads, config=None):
    linker = Linker(config)
    linker.add(ads, [extract(a) for a in ads])
    return linker


def test_shared_obfuscated_phone_links_different_texts():
    ads = [ad(1, "Window cleaning in Leeds. Call 201-555-0123"),
           ad(2, "Piano lessons for adults, text two zero one five five five zero one two three"),
           ad(3, "Dog walking every morning, call 917-555-0142")]
    [network] = link(ads).networks()
    assert network.ads == ("s:1", "s:2")
    [evidence] = network.evidence
    assert (evidence.kind, evidence.value) == ("phone", "+12015550123")


def test_near_duplicate_text_links_and_template_marks_slots():
    base = ("Relaxing {} service in {} open on weekdays with friendly staff and free parking "
            "nearby please book a visit today and enjoy a calm afternoon")
    ads = [ad(i, base.format(service, city)) for i, (service, city) in
           enumerate([("massage", "Leeds"), ("massage", "York"), ("cleaning", "Leeds")])]
    ads.append(ad(9, "Completely different gardening offer with hedges trimmed and lawns mowed"))
    [network] = link(ads).networks()
    assert set(network.ads) == {"s:0", "s:1", "s:2"}
    assert {e.kind for e in network.evidence} == {"text"}
    assert network.template is not None
    assert network.template.template.startswith("Relaxing {1} service in {2} open")
    assert set(network.template.slots[0]) == {"massage", "cleaning"}


def test_hub_values_are_capped():
    ads = [ad(i, f"Unique offer number {i} " + " ".join(random.Random(i).choices(
        "abcdefghij", k=30)), phone="212-555-0100") for i in range(12)]
    linker = link(ads, LinkConfig(hub_cap=5))
    assert linker.networks() == []
    assert linker.hubs == {"phone:+12125550100"}


def test_incremental_equals_batch_and_ids_are_stable():
    planted = [p.ad for p in generate(400, seed=3)]
    batch = link(planted)
    incremental = Linker()
    for start in range(0, 400, 70):
        chunk = planted[start:start + 70]
        incremental.add(chunk, [extract(a) for a in chunk])
    first = [(n.id, n.ads) for n in batch.networks(with_template=False)]
    assert first == [(n.id, n.ads) for n in incremental.networks(with_template=False)]
    assert first == [(n.id, n.ads) for n in link(planted).networks(with_template=False)]
    assert len(first) > 5


def test_duplicates_are_ignored():
    linker = Linker()
    one = ad(1, "Ironing service, call 201-555-0123")
    assert linker.add([one], [extract(one)]) == 1
    assert linker.add([one], [extract(one)]) == 0
    assert len(linker) == 1


def test_planted_networks_are_recovered():
    planted = generate(600, seed=11)
    linker = link([p.ad for p in planted])
    labels = linker.labels()
    truth: dict[int, set[int]] = {}
    for p in planted:
        if p.network >= 0:
            truth.setdefault(p.network, set()).add(labels[p.ad.key])
    # Every planted network lands in one predicted network ...
    assert sum(len(roots) == 1 for roots in truth.values()) >= 0.9 * len(truth)
    # ... and no two planted networks share one.
    roots = [next(iter(r)) for r in truth.values() if len(r) == 1]
    assert len(roots) == len(set(roots))


def test_template_view_of_identical_texts_has_no_slots():
    view = template_view(["a b c", "a b c"])
    assert view.template == "a b c"
    assert view.slots == ()


def _flip(hex_hash: str, bits: list[int]) -> str:
    value = int(hex_hash, 16)
    for bit in bits:
        value ^= 1 << bit
    return f"{value:064x}"


def test_near_identical_photos_link_through_the_pdq_index():
    rng = random.Random(5)
    photo = f"{rng.getrandbits(256):064x}"
    reposted = _flip(photo, rng.sample(range(256), 20))  # re-encoded: 20 bits moved
    again = _flip(reposted, rng.sample(range(256), 25))  # near the repost, 45 from the first
    other = _flip(photo, rng.sample(range(256), 60))  # another photo
    ads = [ad(1, "Window cleaning in Leeds", image_hashes=[photo]),
           ad(2, "Piano lessons for adults on Sundays", image_hashes=[reposted]),
           ad(3, "Dog walking every morning in the park", image_hashes=[again]),
           ad(4, "Bookkeeping help for small firms", image_hashes=[other])]
    linker = link(ads)
    [network] = linker.networks()
    assert network.ads == ("s:1", "s:2", "s:3")
    [evidence] = network.evidence
    assert (evidence.kind, evidence.value) == ("image", photo)  # the group's first photo
    exact = link(ads, LinkConfig(image_radius=0))
    assert exact.networks() == []


# Written by hand, unlike the benchmark's generator: other sentence shapes, slots that are
# phrases, and unrelated ads that share the stock phrases of the genre.
HELD_OUT_TEMPLATE = (
    "Hello, my name is {name} and I have just moved to {city}. I offer {service} in a {adj} "
    "and private setting, with towels and fresh drinks provided. Appointments from {start} "
    "until late, discreet parking at the back of the building. New faces welcome, regulars "
    "get a small discount on {day}. Message me first, no withheld numbers please.")
SLOT_VALUES = {"name": ["Anna", "Maria", "Lena", "Sofia"],
               "city": ["Leeds", "Derby", "Hull", "Bath"],
               "service": ["relaxing massage", "sports therapy", "reflexology", "hot stones"],
               "adj": ["calm", "clean", "quiet", "warm"],
               "start": ["9 am", "10 am", "noon", "2 pm"],
               "day": ["Mondays", "Tuesdays", "Sundays", "weekdays"]}
STOCK = ["Message me first, no withheld numbers please.", "New faces welcome.",
         "Appointments from 9 am until late.", "Discreet parking available."]


def test_held_out_template_links_at_every_slot_count_and_stock_phrases_do_not():
    rng = random.Random(3)
    base = {slot: values[0] for slot, values in SLOT_VALUES.items()}
    ads = [ad(0, HELD_OUT_TEMPLATE.format(**base))]
    for changed in (1, 2, 3, 4):
        for copy in range(2):
            values = dict(base)
            for slot in rng.sample(sorted(SLOT_VALUES), changed):
                values[slot] = rng.choice(SLOT_VALUES[slot][1:])
            ads.append(ad(changed * 10 + copy, HELD_OUT_TEMPLATE.format(**values)))
    unrelated = [
        "Tidy house cleaning in Leeds by a careful team. " + " ".join(STOCK),
        "Maths tutoring for all ages, exam practice included. " + " ".join(STOCK[:3]),
        "Mobile bicycle repairs at your door, spare parts in the van. " + " ".join(STOCK[1:]),
    ]
    ads += [ad(100 + i, text) for i, text in enumerate(unrelated)]
    networks = link(ads).networks()
    assert [set(n.ads) for n in networks] == [{a.key for a in ads[:9]}]


def test_boilerplate_is_judged_on_confirmed_near_duplicates_not_candidates():
    base = ("Friendly {} service in {} open on weekdays with calm staff and free parking "
            "nearby please book a visit today and enjoy a quiet afternoon with us")
    similar = [ad(i, base.format(service, city)) for i, (service, city) in
               enumerate([("ironing", "Leeds"), ("cleaning", "York"), ("tutoring", "Hull")])]
    copy = ad(9, base.format("ironing", "Leeds"))
    # At 0.95 the three texts are LSH candidates of one another but not confirmed; the copy
    # has three candidates (over the cap of 1) and one confirmed twin, so it still links.
    linker = link([*similar, copy], LinkConfig(threshold=0.95, text_cap=1))
    assert [n.ads for n in linker.networks()] == [("s:0", "s:9")]
    # Confirmed near-duplicates over the cap make a text boilerplate: it links nothing.
    copies = [ad(20 + i, base.format("ironing", "Leeds")) for i in range(4)]
    capped = link(copies, LinkConfig(text_cap=2))
    assert [n.ads for n in capped.networks()] == [("s:20", "s:21", "s:22")]
