from django.contrib import admin
from django.urls import path

from madoguchi.api.views import api, health, ready

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", health, name="healthz"),
    path("readyz", ready, name="readyz"),
]
