"""The listings app's pages and beacons, under `/listings/`."""

from django.urls import path

from marketplace.listings.beacon import beacon

app_name = "listings"

urlpatterns = [
    path("beacon/", beacon, name="beacon"),
]
