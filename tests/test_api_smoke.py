from tests.factories import ALL_DECLARATIONS


def test_booking_flow_schedules_and_cancels(world, api_as):
    api = api_as(world.coordinator)
    created = api.post(
        "/api/v1/requests",
        {
            "job_seeker_number": "０１０４０－１２３４５６７８",
            "name": "求職 太郎",
            "preferences": [{"start": "2026-12-02T10:00:00+09:00", "duration_minutes": 60}],
            "channel": "phone",
            "declarations": ALL_DECLARATIONS,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "requested"
    scheduled = api.post(
        f"/api/v1/requests/{body['id']}/schedule",
        {
            "start": "2026-12-02T10:00:00+09:00",
            "duration_minutes": 60,
        },
    )
    assert scheduled.status_code == 201, scheduled.content
    consultation = scheduled.json()
    assert consultation["counselor"] == "sato"
    assert consultation["meeting"]["provider"] == "fake"
    cancelled = api.post(
        f"/api/v1/consultations/{consultation['id']}/cancel",
        {"channel": "phone", "reason": "体調不良"},
    )
    assert cancelled.json()["status"] == "cancelled", cancelled.content
