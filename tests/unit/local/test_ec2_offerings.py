"""sluice.local.patches.ec2_offerings: moto's EC2 holds our region's offerings only."""

from __future__ import annotations

from moto.ec2.models import instance_types
from moto.utilities import utils
from sluice.local.patches import ec2_offerings, replace
from sluice.local.provision import REGION

OFFERINGS = "ec2/resources/instance_type_offerings"


def test_moto_ec2_holds_offerings_for_our_region_only() -> None:
    ec2_offerings.install()
    held = {
        location: {region for region, offers in regions.items() if offers}
        for location, regions in instance_types.INSTANCE_TYPE_OFFERINGS.items()
    }
    assert held == {
        "region": {REGION},
        "availability-zone": {REGION},
        "availability-zone-id": {REGION},
    }


def test_our_regions_offerings_are_moto_own() -> None:
    ec2_offerings.install()
    moto_own = replace.original(utils, "load_resource")(f"{OFFERINGS}/region/{REGION}.json")
    held = instance_types.INSTANCE_TYPE_OFFERINGS["region"][REGION]
    assert [{**offer, "LocationType": "region"} for offer in moto_own] == held
    assert len(held) > 100


def test_the_loader_answers_other_regions_offerings_empty_and_every_other_file_as_moto() -> None:
    ec2_offerings.install()
    moto_own = replace.original(utils, "load_resource")
    assert utils.load_resource(f"{OFFERINGS}/availability-zone/eu-west-1.json") == []
    types = "ec2/resources/instance_types.json"
    assert utils.load_resource(types) == moto_own(types)
