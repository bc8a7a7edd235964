/* backup: see backup.h (being written). */
#include "ingest/backup.h"
