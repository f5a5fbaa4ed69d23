from django.urls import path

from routing.api.explain import RouteExplainApi

urlpatterns: list = [
    path("explain/", RouteExplainApi.as_view(), name="routing-explain"),
]
