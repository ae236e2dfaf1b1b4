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
