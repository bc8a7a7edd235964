/* server: see server.h (being written). */
#include "ingest/server.h"
