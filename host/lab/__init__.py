"""Lab mode: services on several computers sharing one database (docs/internals.md).

site: this service's site row, its heartbeat, the names it claims; commands: requests for
another site's rigs, carried out by that site; notify: PostgreSQL LISTEN/NOTIFY, which wakes
both ends at once (a 1 s poll stands in where it cannot).
"""

from host.lab.site import (
    Site,
    adopt_board_name,
    claim,
    note_board,
    remote_rigs,
    served_elsewhere,
    serving_site,
)

__all__ = ["Site", "adopt_board_name", "claim", "note_board", "remote_rigs", "served_elsewhere", "serving_site"]
