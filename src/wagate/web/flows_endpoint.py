"""The Flows data endpoint over HTTP (FL1): `POST /flows/endpoint`, registered with Meta as a
Flow's endpoint URL. The edge only carries bytes: verifying, decrypting, answering and
encrypting are the endpoint's (`FlowDataEndpoint`, built by wiring when a key is configured);
without one the route does not exist (404)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from wagate.domain.flow_exchange import FlowDataEndpoint
from wagate.domain.provider_port import InboundRequest

FLOWS_ENDPOINT_PATH = "/flows/endpoint"


def flows_endpoint_router(endpoint: FlowDataEndpoint) -> APIRouter:
    router = APIRouter()

    @router.post(FLOWS_ENDPOINT_PATH, include_in_schema=False)
    async def exchange(request: Request) -> Response:
        answer = endpoint.handle(
            InboundRequest(
                method="POST",
                headers={k.lower(): v for k, v in request.headers.items()},
                body=await request.body(),
                client=request.client.host if request.client else None,
            )
        )
        return Response(
            content=answer.body, status_code=answer.status, media_type=answer.media_type
        )

    return router
