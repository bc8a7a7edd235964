/* client: see client.h (being written). */
#include "ingest/client.h"
