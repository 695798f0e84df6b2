from django.http import JsonResponse
from ninja import NinjaAPI

api = NinjaAPI(urls_namespace="api")


def health(request):
    return JsonResponse({"status": "ok"})


def ready(request):
    return JsonResponse({"status": "ok"})
