package query

import "database/sql"

var errNoRows = sql.ErrNoRows
