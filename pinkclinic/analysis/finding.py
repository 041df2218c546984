"""What one analyzer says about one signal: none, issue, or insufficient-data.

Analyzers return a :class:`Finding`; ``diagnose`` combines them. A finding
always carries its evidence (the numbers it decided on), so the report can show
why, and a test can check the decision against the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NONE = "none"
ISSUE = "issue"
INSUFFICIENT = "insufficient-data"


@dataclass
class Culprit:
    function: str
    file: str
    line: int
    share: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"function": self.function, "file": self.file, "line": int(self.line),
                "share": round(float(self.share), 4), **self.extra}


@dataclass
class Finding:
    signal: str                      # the analyzer: "loop", "gc", "memory", ...
    status: str = NONE               # NONE | ISSUE | INSUFFICIENT
    category: str | None = None      # set when status == ISSUE
    severity: float = 0.0            # 0..1
    summary: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    culprits: list[Culprit] = field(default_factory=list)
    recommendation: str = ""
    missing: list[str] = field(default_factory=list)  # signals this analyzer could not see

    def issue_dict(self) -> dict[str, Any]:
        return {"category": self.category, "severity": round(max(0.0, min(1.0, self.severity)), 3),
                "summary": self.summary, "evidence": self.evidence,
                "culprits": [c.to_dict() for c in self.culprits],
                "recommendation": self.recommendation}

    def to_dict(self) -> dict[str, Any]:
        return {"signal": self.signal, "status": self.status, "category": self.category,
                "severity": round(self.severity, 3), "summary": self.summary,
                "evidence": self.evidence, "culprits": [c.to_dict() for c in self.culprits],
                "missing": self.missing}


def insufficient(signal: str, why: str, **evidence: Any) -> Finding:
    return Finding(signal=signal, status=INSUFFICIENT, summary=why, evidence=dict(evidence))


def clamp01(x: float) -> float:
    return 0.0 if x != x else max(0.0, min(1.0, x))  # NaN -> 0
