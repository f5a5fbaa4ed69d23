"""The sponsored slots' beacon, under `/listings/` (the vendor pages are `urls.py`)."""

from django.urls import path

from marketplace.listings.beacon import beacon

app_name = "listings_beacon"

urlpatterns = [
    path("beacon/", beacon, name="beacon"),
]
