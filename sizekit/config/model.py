"""The matrix as sizekit uses it: plain objects made by the validator, read by everything else.

Every field here comes from a schema key (config/schema.py), and every schema key lands in a
field that something reads.
"""
from dataclasses import dataclass, field
from typing import ClassVar, Optional, Union


@dataclass(frozen=True)
class Strip:
    """`strip` or `{strip: {args: [...], tool: llvm-strip}}`: strip a copy of the artifact."""
    kind: ClassVar[str] = "strip"
    args: tuple = ()
    tool: Optional[str] = None  # overrides the target's strip tool for this step

    @property
    def options(self):
        """Settings as JSON, for step keys and up-to-date checks."""
        out: dict = {"args": list(self.args)}
        if self.tool:
            out["tool"] = self.tool
        return out

    def argv(self, tool, src, dst):
        return [self.tool or tool, *self.args, "-o", dst, src]

    @property
    def label(self):
        return "stripped"


@dataclass(frozen=True)
class Upx:
    """`upx` or `{upx: {level: 1-9|best, lzma, brute, ultra-brute}}`: pack a copy with UPX."""
    kind: ClassVar[str] = "upx"
    level: Union[int, str] = "best"   # 1-9 or "best"
    lzma: bool = False
    brute: bool = False
    ultra_brute: bool = False

    @property
    def options(self):
        return {"level": self.level, "lzma": self.lzma, "brute": self.brute, "ultra-brute": self.ultra_brute}

    @property
    def flags(self):
        out = ["--best" if self.level == "best" else f"-{self.level}"]
        out += [f"--{name}" for name, on in (("lzma", self.lzma), ("brute", self.brute),
                                             ("ultra-brute", self.ultra_brute)) if on]
        return out

    def argv(self, upx, src, dst):
        return [upx, *self.flags, "-q", "--force", "-o", dst, src]

    @property
    def label(self):
        return "upx " + " ".join(self.flags)

    @property
    def estimate_level(self):
        """The native estimator's level that models these flags."""
        return "lzma" if self.lzma else "best"


POST_STEPS = {"strip": Strip, "upx": Upx}


@dataclass
class Toolchain:
    name: str
    rustup: Optional[str] = None
    cargo: Optional[str] = None
    rustc: Optional[str] = None
    sysroot: Optional[str] = None


@dataclass
class Target:
    triple: str
    linker: Optional[str] = None
    strip: Optional[str] = None
    runner: Optional[list] = None
    rustflags: list = field(default_factory=list)
    env: dict = field(default_factory=dict)


@dataclass
class Crate:
    name: str
    path: str
    kind: str
    artifact: str
    toolchain: Optional[str] = None
    targets: Optional[list] = None
    smoke: Optional[dict] = None
    budget: Optional[dict] = None
    features: list = field(default_factory=list)
    default_features: bool = True
    env: dict = field(default_factory=dict)
    rustflags: list = field(default_factory=list)
    reference: Optional[dict] = None   # {name, path, ...} of the C build to compare with
    bench: Optional[dict] = None       # how `sizekit explore` measures a point's speed


@dataclass
class Variant:
    name: str
    index: int
    settings: dict
    post: list
    label: Optional[str] = None
    only: Optional[dict] = None
    parents: list = field(default_factory=list)


@dataclass
class Cache:
    """A shared compile cache for every cargo build: sccache as RUSTC_WRAPPER.

    env is passed to sccache on top of the environment (SCCACHE_REDIS_ENDPOINT and the rest);
    required=False builds without the cache when sccache is missing, instead of marking the
    cells unavailable; cc=False leaves build scripts' C compiles (jemalloc's, say) uncached."""
    tool: str = "sccache"
    env: dict = field(default_factory=dict)
    required: bool = True
    cc: bool = True


@dataclass(frozen=True)
class Fleet:
    """`fleets: {NAME: [crate/target/variant, ...]}` or `{NAME: {cells: [...], budget: 8M}}`: the
    cells one firmware image ships together, as cell names (targets written out in full)."""
    name: str
    cells: tuple
    budget: Optional[int] = None   # bytes, over the members' final files together
    alternatives: tuple = ()       # (name, cells): other cells that would ship the same programs


@dataclass
class Matrix:
    path: str
    root: str
    output: str
    baseline: str
    toolchains: dict
    targets: dict
    crates: dict
    variants: list
    host: Optional[str] = None
    cache: Optional[Cache] = None
    explore: Optional[object] = None   # config.explore.Explore: what `sizekit explore` searches
    fleets: dict = field(default_factory=dict)   # name -> Fleet: cells shipped together in one image

    def variant(self, name):
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)
