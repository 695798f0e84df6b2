from django.contrib import admin
from django.urls import include, path, re_path

from madoguchi.api.views import api, api_not_found, health, ready
from madoguchi.meetings.views import fake_meeting, zoom_webhook
from madoguchi.web import check, seeker, terms
from madoguchi.web.views import request_verify_page

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("staff/", include("madoguchi.accounts.urls")),
    path("staff/", include("madoguchi.web.staff_urls")),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<path>.*)$", api_not_found),
    path("healthz", health, name="healthz"),
    path("readyz", ready, name="readyz"),
    path("webhooks/zoom", zoom_webhook, name="zoom-webhook"),
    path("meetings/fake/<str:meeting_id>/", fake_meeting, name="fake-meeting"),
    path("requests/verify/<str:token>/", request_verify_page, name="request-verify"),
    path("offices/<str:code>/terms/", terms.terms_page, name="terms"),
    path("offices/<str:code>/terms/history/", terms.terms_history_page, name="terms-history"),
    path("offices/<str:code>/terms/<int:number>/", terms.terms_version_page, name="terms-version"),
    path("check/", check.device_check, name="device-check"),
    path("", seeker.offices_page, name="seeker-offices"),
    path("offices/<str:code>/", seeker.office_page, name="seeker-office"),
    path("offices/<str:code>/request/", seeker.request_form, name="seeker-request"),
    path("offices/<str:code>/request/sent/", seeker.request_sent, name="seeker-request-sent"),
    path("requests/status/<str:token>/", seeker.request_status, name="seeker-request-status"),
    path(
        "requests/status/<str:token>/calendar.ics",
        seeker.request_status_ics,
        name="seeker-request-status-ics",
    ),
    path(
        "requests/status/<str:token>/cancel/", seeker.request_cancel, name="seeker-request-cancel"
    ),
]
