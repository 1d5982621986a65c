"""Error replies, in the three body shapes the live API mixes (api.md §6).

Handlers raise ``ApiError``; ``Sandbox.handle`` turns it into the HTTP response. Bodies copied from
the docs' examples say so; the others are marked ASSUMED, because no source shows them.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    """A non-2xx reply: HTTP status plus the exact JSON body to send."""

    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


# ASSUMED: the docs say a bad or missing Api-Token gets 403 but never show the body (api.md §10.1).
FORBIDDEN: JSON = {"message": "Forbidden"}
# ASSUMED: no documented body for an unknown route.
NOT_FOUND: JSON = {"message": "Not Found"}
# The docs' generic 400 example is an empty object.
BAD_REQUEST: JSON = {}
# Verbatim from other_sources/contact_sync__422__invalid_email.json (a rudder-transformer mock that
# looks captured from a live reply; the 422 status itself is UNVERIFIED, a 400 is also reported).
INVALID_EMAIL: JSON = {
    "errors": [
        {
            "title": "Contact Email Address is not valid.",
            "detail": "",
            "code": "email_invalid",
            "error": "must_be_valid_email_address",
            "source": {"pointer": "/data/attributes/email"},
        }
    ]
}

# Verbatim from post_contacts__422__Result.json (POST /contacts, duplicate email). PUT
# /contacts/{id} answers it when the new email is another contact's: ASSUMED (no PUT example).
DUPLICATE_EMAIL: JSON = {
    "errors": [
        {
            "title": "Email address already exists in the system",
            "detail": "",
            "code": "duplicate",
            "source": {"pointer": "/data/attributes/email"},
        }
    ]
}


def no_result(entity: str, ident: object) -> ApiError:
    """404 ``No Result found for <Entity> with id N``; the entity is the API's internal name
    (``Subscriber`` for contacts, ``_List`` for lists, ``Tag``, ``SubscriberSeries``)."""
    return ApiError(404, {"message": f"No Result found for {entity} with id {ident}"})


def missing_attribute(*names: str) -> ApiError:
    """422 ``field_missing`` in the /contact/sync style (api.md §6 shape 2), one item per name."""
    return ApiError(
        422,
        {
            "errors": [
                {
                    "title": "Missing attribute",
                    "detail": "",
                    "code": "field_missing",
                    "source": {"pointer": f"/data/attributes/{name}"},
                }
                for name in names
            ]
        },
    )


def invalid_attribute(name: str, title: str, detail: str = "") -> ApiError:
    """422 ``field_invalid`` (ASSUMED shape, built from the documented error codes)."""
    return ApiError(
        422,
        {
            "errors": [
                {
                    "title": title,
                    "detail": detail,
                    "code": "field_invalid",
                    "source": {"pointer": f"/data/attributes/{name}"},
                }
            ]
        },
    )
