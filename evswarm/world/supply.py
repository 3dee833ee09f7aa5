"""Suppliers and components: who makes what, with what lead time and what risk."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    component: str
    lead_time_days: int
    cost_delta: float
    """Extra cost per vehicle when this supplier substitutes for the primary one."""
    primary: bool


SUPPLIERS: tuple[Supplier, ...] = (
    Supplier("cell_domestic_01", "cells_nmc", 14, 0.0, True),
    Supplier("cell_import_02", "cells_nmc", 35, 0.0, False),
    Supplier("cell_lfp_01", "cells_lfp", 21, 0.0, True),
    Supplier("cell_lfp_02", "cells_lfp", 30, 0.0, False),
    Supplier("wheel_forge_01", "wheelset_19in_aero", 7, 0.0, True),
    Supplier("wheel_cast_02", "wheelset_19in_aero", 12, 0.0, False),
    Supplier("wheel_forge_01", "wheelset_20in_sport", 7, 0.0, True),
    Supplier("wheel_cast_02", "wheelset_20in_sport", 12, 0.0, False),
    Supplier("wheel_forge_03", "wheelset_21in_performance", 10, 0.0, True),
    Supplier("wheel_cast_04", "wheelset_21in_performance", 24, 0.0, False),
    Supplier("wheel_forge_03", "wheelset_22in_offroad", 10, 0.0, True),
    Supplier("wheel_cast_04", "wheelset_22in_offroad", 24, 0.0, False),
    Supplier("motor_mainline_01", "drive_unit", 9, 0.0, True),
    Supplier("motor_mainline_02", "drive_unit", 16, 0.0, False),
    Supplier("electronics_01", "infotainment_soc", 12, 0.0, True),
    Supplier("electronics_02", "infotainment_soc", 40, 0.0, False),
)

for _body in ("lumen", "atlas", "ridge", "nova"):
    SUPPLIERS += (
        Supplier(f"body_stamp_{_body}", f"body_{_body}", 5, 0.0, True),
        Supplier(f"body_alt_{_body}", f"body_{_body}", 18, 0.0, False),
    )


def primary_supplier(component: str) -> Supplier:
    return next(s for s in SUPPLIERS if s.component == component and s.primary)


def alternate_supplier(component: str) -> Supplier:
    return next(s for s in SUPPLIERS if s.component == component and not s.primary)
