"""The demo branch: a seeded, believable Chengdu branch for first starts, training and benchmarks."""

from app.services.demo.generate import (
    DEMO_CODE,
    DEMO_PASSWORD,
    SIZES,
    DemoSummary,
    build_demo,
)

__all__ = ["DEMO_CODE", "DEMO_PASSWORD", "SIZES", "DemoSummary", "build_demo"]
