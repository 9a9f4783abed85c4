"""The store's part for duplicate groups, uncertain pairs and people's judgements.

A dedup run is written in one transaction: its row in ``dedup_runs`` (finished_at set last),
every record's group (``dedup_groups``: record, group, kept) and the pairs it found
(``dedup_pairs``: 'same' and 'uncertain', with score and reason). People's answers on pairs
are kept apart in ``dedup_judgements``, append-only (reviewer, time, workbook hash): the
latest answer on a pair counts, and no run ever changes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from review.store._base import StoreBase, dumps, loads, now

__all__ = ["DedupJudgement", "DedupStoreMixin"]


@dataclass(frozen=True, slots=True)
class DedupJudgement:
    """A person's answer on a pair of records (record ids, a < b)."""

    a: int
    b: int
    same: bool
    reviewer: str
    decided_at: str = ""
    workbook_hash: str | None = None
    note: str | None = None


class DedupStoreMixin(StoreBase):
    """Store methods for duplicate groups, uncertain pairs and people's judgements."""

    def latest_dedup_run(self) -> dict[str, Any] | None:
        """The latest finished dedup run as a dict (id, started_at, finished_at, params, ...)."""
        row = self.conn.execute(
            "SELECT id, started_at, finished_at, software_version, params, n_records, n_groups "
            "FROM dedup_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        keys = ("id", "started_at", "finished_at", "software_version", "params", "n_records", "n_groups")
        out = dict(zip(keys, row, strict=True))
        out["params"] = loads(out["params"]) or {}
        return out

    def unique_record_count(self) -> int:
        """Records left after the latest dedup run (records added since count as unique)."""
        conn = self.conn
        row = conn.execute("SELECT MAX(id) FROM dedup_runs WHERE finished_at IS NOT NULL").fetchone()
        total = int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        if row is None or row[0] is None:
            return total
        run = row[0]
        removed = conn.execute(
            "SELECT COUNT(*) FROM dedup_groups WHERE run_id = ? AND kept = 0", (run,)
        ).fetchone()[0]
        return total - int(removed)

    def unique_record_ids(self) -> list[int]:
        """Record ids kept after the latest dedup run, plus records added since it (all ids before any run)."""
        conn = self.conn
        run = self.latest_dedup_run()
        if run is None:
            return [int(r[0]) for r in conn.execute("SELECT id FROM records ORDER BY id")]
        rows = conn.execute(
            "SELECT r.id FROM records r LEFT JOIN dedup_groups g ON g.record_id = r.id AND g.run_id = ? "
            "WHERE g.record_id IS NULL OR g.kept = 1 ORDER BY r.id",
            (run["id"],),
        )
        return [int(r[0]) for r in rows]

    def _dedup_run_id(self, run_id: int | None) -> int | None:
        """``run_id``, or the latest finished run's id when None (None if no run finished)."""
        if run_id is not None:
            return run_id
        run = self.latest_dedup_run()
        return None if run is None else int(run["id"])

    def dedup_groups(self, run_id: int | None = None) -> dict[int, tuple[int, bool]]:
        """record id -> (group id, kept) of a run (the latest finished one by default; {} if none)."""
        run_id = self._dedup_run_id(run_id)
        if run_id is None:
            return {}
        rows = self.conn.execute(
            "SELECT record_id, group_id, kept FROM dedup_groups WHERE run_id = ?", (run_id,)
        )
        return {int(r): (int(g), bool(k)) for r, g, k in rows}

    def duplicate_groups(self, run_id: int | None = None) -> dict[int, list[tuple[int, str, bool]]]:
        """Groups of more than one record: group id -> [(record id, source, kept)], kept first."""
        run_id = self._dedup_run_id(run_id)
        if run_id is None:
            return {}
        rows = self.conn.execute(
            "SELECT g.group_id, g.record_id, r.source, g.kept FROM dedup_groups g "
            "JOIN records r ON r.id = g.record_id WHERE g.run_id = ? AND g.group_id IN "
            "(SELECT group_id FROM dedup_groups WHERE run_id = ? GROUP BY group_id HAVING COUNT(*) > 1) "
            "ORDER BY g.group_id, g.kept DESC, g.record_id",
            (run_id, run_id),
        )
        out: dict[int, list[tuple[int, str, bool]]] = {}
        for gid, rid, source, kept in rows:
            out.setdefault(int(gid), []).append((int(rid), str(source), bool(kept)))
        return out

    def dedup_pairs(self, run_id: int | None = None, verdict: str | None = None) -> list[dict[str, Any]]:
        """Pairs a run found (a, b, score, verdict, reason), optionally only one verdict."""
        run_id = self._dedup_run_id(run_id)
        if run_id is None:
            return []
        sql = "SELECT a, b, score, verdict, reason FROM dedup_pairs WHERE run_id = ?"
        args: list[Any] = [run_id]
        if verdict is not None:
            sql += " AND verdict = ?"
            args.append(verdict)
        rows = self.conn.execute(sql + " ORDER BY score DESC, a, b", args)
        return [dict(zip(("a", "b", "score", "verdict", "reason"), r, strict=True)) for r in rows]

    def save_dedup_run(
        self,
        *,
        started_at: str,
        software_version: str,
        params: Mapping[str, Any],
        groups: Iterable[tuple[int, int, bool]],
        pairs: Iterable[tuple[int, int, float, str, str]],
    ) -> int:
        """Write a whole run in one transaction: (record, group, kept) rows and the pairs found.

        An interrupted run leaves nothing behind; the run only counts once ``finished_at`` is set.
        """
        group_rows = [(int(r), int(g), 1 if k else 0) for r, g, k in groups]
        pair_rows = {(min(a, b), max(a, b)): (float(s), v, why) for a, b, s, v, why in pairs}
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO dedup_runs (started_at, software_version, params, n_records, n_groups) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    started_at,
                    software_version,
                    dumps(dict(params)),
                    len(group_rows),
                    sum(1 for _, _, k in group_rows if k),
                ),
            )
            run_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO dedup_groups (run_id, record_id, group_id, kept) VALUES (?, ?, ?, ?)",
                [(run_id, r, g, k) for r, g, k in group_rows],
            )
            conn.executemany(
                "INSERT INTO dedup_pairs (run_id, a, b, score, verdict, reason) VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, a, b, s, v, why) for (a, b), (s, v, why) in pair_rows.items()],
            )
            conn.execute("UPDATE dedup_runs SET finished_at = ? WHERE id = ?", (now(), run_id))
        return run_id

    def add_dedup_judgements(self, judgements: Sequence[DedupJudgement]) -> int:
        """Append people's answers; an answer identical to the pair's current one is not repeated.

        Returns how many answers were added (re-importing the same workbook adds none).
        """
        current = {(j.a, j.b): j for j in self.dedup_judgements()}
        added = 0
        stamp = now()
        with self.transaction() as conn:
            for j in judgements:
                a, b = (j.a, j.b) if j.a < j.b else (j.b, j.a)
                before = current.get((a, b))
                if before is not None and before.same == j.same and before.reviewer == j.reviewer:
                    continue
                conn.execute(
                    "INSERT INTO dedup_judgements (a, b, same, reviewer, decided_at, workbook_hash, note) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (a, b, 1 if j.same else 0, j.reviewer, j.decided_at or stamp, j.workbook_hash, j.note),
                )
                current[(a, b)] = DedupJudgement(a, b, j.same, j.reviewer)
                added += 1
        return added

    def dedup_judgements(self, history: bool = False) -> list[DedupJudgement]:
        """People's answers: the latest per pair (or every answer ever given with ``history``)."""
        rows = self.conn.execute(
            "SELECT a, b, same, reviewer, decided_at, workbook_hash, note FROM dedup_judgements ORDER BY id"
        ).fetchall()
        answers = [DedupJudgement(int(a), int(b), bool(s), r, d, h, n) for a, b, s, r, d, h, n in rows]
        if history:
            return answers
        latest: dict[tuple[int, int], DedupJudgement] = {}
        for j in answers:
            latest[(j.a, j.b)] = j
        return list(latest.values())
