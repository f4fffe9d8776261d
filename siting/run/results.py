"""The typed values that pass between a run's stages: sites, tiers, outcomes, the run.

Every array is indexed by one explicit space: *site* arrays by the site's row in
:class:`Sites` (``(n_sites,)``), *unit* arrays by the demand unit's row in
``RunResult.demand`` (``(n_units,)``). Nothing here is a DataFrame column named by string:
the outputs build their own tables from these values (:mod:`siting.outputs.tables`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from siting import core
from siting.check import checker
from siting.config.scenario import Scenario, TierConfig
from siting.network import roads
from siting.network.snapping import AccessGraph
from siting.run import inputs
from siting.run.phrases import Phrase
from siting.run.sizing import Deadline
from siting.run.target_costs import TargetCost


@dataclass(frozen=True)
class Sites:
    """Every candidate and existing site; site ``j`` is entry ``j`` of every array.

    A site is attached to the road either at its own road node (``road_node`` ≥ 0) or
    through its point (``point`` ≥ 0: its row among the points attached to the access
    graphs, the demand units first, then the existing facilities); exactly one is set.
    """

    site_id: np.ndarray        # (n,) "S00001" …
    name: np.ndarray           # (n,) object: the facility's or the unit's name, "" for nodes
    source: np.ndarray         # (n,) object: "road node", "building", the facility's source …
    osm_id: np.ndarray         # (n,) str
    lon: np.ndarray            # (n,) WGS84
    lat: np.ndarray
    x: np.ndarray              # (n,) metric, the network's CRS
    y: np.ndarray
    road_node: np.ndarray      # (n,) int, -1: attached through its point
    point: np.ndarray          # (n,) int, -1: a road node
    is_existing: np.ndarray    # (n,) bool: an existing facility (not a candidate)
    existing: Mapping[str, np.ndarray]   # tier -> (n,) bool: open already for the tier
    capacity: np.ndarray       # (n,) compartments of an existing bank, NaN if unknown

    def __len__(self) -> int:
        return len(self.site_id)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, tiers: list[str]) -> Sites:
        """The typed sites of :func:`siting.network.candidates.combine`'s table."""
        col = {c: frame[c].to_numpy() for c in ("site_id", "name", "source", "osm_id")}
        num = {c: frame[c].to_numpy(float) for c in ("lon", "lat", "x", "y", "capacity")}
        return cls(**col, **num, road_node=frame["road_node"].to_numpy(np.int64),
                   point=frame["point"].to_numpy(np.int64),
                   is_existing=frame["is_existing"].to_numpy(bool),
                   existing={t: frame[f"existing_{t}"].to_numpy(bool) for t in tiers})

    def existing_sites(self) -> np.ndarray:
        """The existing sites, in the order their points follow the demand points."""
        rows = np.flatnonzero(self.is_existing)
        return rows[np.argsort(self.point[rows], kind="stable")]


@dataclass(frozen=True)
class Allocation:
    """One tier's allocation: by unit (``site``, ``dist_m``) and by site (what it serves)."""

    site: np.ndarray               # (n_units,) int: the serving site's row, -1 none
    dist_m: np.ndarray             # (n_units,) road distance to it, NaN: none or "inside"
    units: np.ndarray              # (n_sites,) int: units allocated to the site
    population: np.ndarray         # (n_sites,) residents of those units
    compartments: np.ndarray | None   # (n_sites,) compartments they need (capacitated tiers)


@dataclass(frozen=True)
class SiteCosts:
    """What one tier pays per site (:mod:`siting.run.costs`); ``(n_sites,)``, 0 if not new.

    Summed over sites and tiers, :attr:`total` is the plan's cost (``Solution.cost``).
    """

    site: np.ndarray               # the tier's cost of a new site (site preparation)
    bank: np.ndarray               # a new locker bank's own cost, by its size
    colocation_saving: np.ndarray  # the co-location saving, on the row of the new facility

    @property
    def total(self) -> np.ndarray:
        """Site + bank − co-location saving."""
        return self.site + self.bank - self.colocation_saving


@dataclass(frozen=True)
class Placement:
    """Where each site is, for handing out (:mod:`siting.run.placement`); by site, ``(n,)``."""

    township_code: np.ndarray      # object: the township polygon holding the site, "" none
    township_name: np.ndarray
    unit_code: np.ndarray          # object: the village or community polygon holding it
    unit_name: np.ndarray
    road: np.ndarray               # object: the nearest named OSM road, "" none near
    road_m: np.ndarray             # metres to it, NaN: none
    gcj_lon: np.ndarray | None     # GCJ-02 (Gaode, Tencent); None: ``[report] gcj02`` off
    gcj_lat: np.ndarray | None


@dataclass(frozen=True)
class TierRun:
    """What one tier was given: its demand rows and which sites reach them."""

    name: str
    config: TierConfig
    rows: np.ndarray               # demand units (indices into RunResult.demand)
    cover: sp.csr_array            # rows × sites, 0/1: the site reaches the unit
    dist: sp.csr_array | None      # rows × sites road distance (same structure), road reach
    weight: np.ndarray             # (rows,) weight when reach is maximised
    each_rows: np.ndarray          # units of one_in_each (indices into RunResult.demand)
    each_cover: sp.csr_array       # each_rows × sites, 0/1: the site lies inside the unit
    count: int                     # required number of sites (0: none)
    demand: np.ndarray | None = None   # (rows,) compartments needed (capacitated tiers)
    compartments: int = 0          # compartments open at least (a plan target; 0: none)


@dataclass(frozen=True)
class CompartmentCost:
    """What a target costs: the plan with it against the same plan solved without it."""

    key: str                       # the target's key (``locker_compartments``)
    with_target: float             # the plan's cost
    without: float                 # the cost of the same scenario solved without the target
    gap_without: float | None      # the proven avoidable gap of that second solve
    open_without: float            # what the target counts (compartments) without it

    @property
    def cost(self) -> float:
        """What reaching the target costs beyond the plan without it."""
        return self.with_target - self.without


@dataclass(frozen=True)
class TierOutcome:
    """What one tier got: its open sites (by site) and who is served (by unit)."""

    name: str
    open: np.ndarray               # (n_sites,) bool, existing included
    existing: np.ndarray           # (n_sites,) bool: open already before the run
    bank_size: np.ndarray          # (n_sites,) int: index of the bank size, -1 none
    compartments: np.ndarray | None   # (n_sites,) compartments open (0 if closed); capacitated
    applies: np.ndarray            # (n_units,) bool: the unit is demand of the tier
    served: np.ndarray             # (n_units,) bool: served (False where not ``applies``)
    dist_m: np.ndarray             # (n_units,) road distance to the nearest open site, NaN
    #                                where not measured (inside reach, or not the tier's)
    allocation: Allocation         # who serves whom (:mod:`siting.run.allocation`)
    costs: SiteCosts               # what each new site costs the tier

    @property
    def new(self) -> np.ndarray:
        """(n_sites,) bool: opened by this run."""
        return self.open & ~self.existing


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced, ready to be written out."""

    scenario: Scenario
    network: roads.RoadNetwork
    sites: Sites                   # every candidate and existing site
    placement: Placement           # where each site is (township, village, road, GCJ-02)
    demand: gpd.GeoDataFrame       # demand units, as read (not changed by the run)
    tiers: dict[str, TierRun]
    outcomes: dict[str, TierOutcome]
    solution: core.Solution
    results: list[checker.Result]
    unsnapped: dict[str, list[str]]  # what could not be attached to the roads, by mode
    timings: dict[str, float]
    inputs: list[dict[str, object]]
    generated: bool = False
    notes: list[str] = field(default_factory=list)
    layer_info: dict[str, dict[str, object]] = field(default_factory=dict)
    tradeoffs: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    phrases: dict[str, Phrase] = field(default_factory=dict)  # what each target asks, by key
    phasing: PhasePlan | None = None   # the build order over the plan's years ([phasing])
    target_costs: list[TargetCost] = field(default_factory=list)  # each target's price
    compartment_costs: list[CompartmentCost] = field(default_factory=list)
    chain: Chain | None = None     # the county → township → village chain ([chain])


@dataclass(frozen=True)
class PhasePlan:
    """The build order over the plan's years (:mod:`siting.run.phasing`).

    Site arrays are ``(n_sites,)``; year arrays ``(T,)``, one entry per year of ``years``.
    A site's new tiers are built together, in one year, at the site's total cost.
    """

    years: tuple[int, ...]
    money: np.ndarray              # (T,) each year's budget (from [phasing] budget or share)
    carry_over: bool               # unspent money of a year may be spent later
    year: np.ndarray               # (n_sites,) int: the year a new site is built, 0 none
    site_cost: np.ndarray          # (n_sites,) what a new site costs, all its tiers; NaN
    #                                for a site the plan does not build
    spend: np.ndarray              # (T,) spent in each year
    before: list[checker.Result]   # every target with the existing sites only
    levels: list[list[checker.Result]]   # (T,) every target by the end of each year
    covered: np.ndarray            # (T,) the model's coverage share by each year's end
    outcome: core.Outcome          # what the solver proved (objective, bound, gap)
    greedy_objective: float        # the greedy order's objective, the MIP's start

    @property
    def unbuilt(self) -> np.ndarray:
        """Rows of the plan's new sites not built in any year (money short)."""
        return np.flatnonzero(self.new & (self.year == 0))

    @property
    def new(self) -> np.ndarray:
        """(n_sites,) bool: a new site of the plan (built in a year or not)."""
        return ~np.isnan(self.site_cost)


@dataclass(frozen=True)
class Centre:
    """A county processing centre: an existing facility, or sited by the run."""

    site_id: str                   # the facility's site id, or C001 … for a new one
    name: str
    source: str                    # the facility type, or "road node"
    osm_id: str                    # the facility's id, or the road node's OSM id
    lon: float
    lat: float
    existing: bool


@dataclass(frozen=True)
class Chain:
    """Each village's chain: centre → township outlet → village outlet, by road (metres).

    Arrays are by village (the village tier's demand rows, in order): the site rows of its
    village and township outlets (-1: none), its centre (an index into ``centres``, -1), and
    the road length of each link; NaN where a link has no end.
    """

    villages: np.ndarray           # (v,) unit rows (indices into RunResult.demand)
    village_site: np.ndarray       # (v,) the village outlet serving it (site row), -1
    township_site: np.ndarray      # (v,) that outlet's nearest township outlet, -1
    centre: np.ndarray             # (v,) that township outlet's nearest centre, -1
    outlet_m: np.ndarray           # (v,) village → its village outlet
    township_m: np.ndarray         # (v,) township outlet → village outlet
    centre_m: np.ndarray           # (v,) centre → township outlet
    centres: list[Centre]
    max_m: float | None            # [chain] max_chain_km in metres
    attached: np.ndarray | None = None   # (v,) bool: the village reaches the road graph
    #                                      (one that does not has no chain; it is named by
    #                                      the village tier's target, not the chain's)

    @property
    def chain_m(self) -> np.ndarray:
        """(v,) centre → township outlet → village outlet."""
        return self.centre_m + self.township_m

    @property
    def beyond(self) -> np.ndarray:
        """(v,) bool: a counted village whose chain is longer than the limit, or missing."""
        if self.max_m is None:
            return np.zeros(len(self.villages), dtype=bool)
        return self.counted & ~(self.chain_m <= self.max_m + 1e-6)

    @property
    def counted(self) -> np.ndarray:
        """(v,) bool: the villages the chain target counts (those attached to the roads)."""
        if self.attached is None:
            return np.ones(len(self.villages), dtype=bool)
        return np.asarray(self.attached, dtype=bool)


class Clock:
    """Wall-clock seconds per stage."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block as stage ``name``."""
        start = time.perf_counter()
        yield
        self.times[name] = round(time.perf_counter() - start, 3)


@dataclass(frozen=True)
class Prepared:
    """Inputs read and distances computed: everything before the model."""

    scenario: Scenario
    inputs: inputs.Inputs
    sites: Sites
    graphs: dict[str, AccessGraph]
    tiers: dict[str, TierRun]
    clock: Clock
    deadline: Deadline | None = None     # the user's time limit, from the start
