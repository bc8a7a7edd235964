/* tls: see tls.h (being written). */
#include "ingest/tls.h"
