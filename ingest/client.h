/*
 * client: the library applications link to send events to the daemon
 * (SPEC.md sections 15 and 16). Depends on neither LMDB nor zstd.
 * (Contract being written; see the helper's final version.)
 */
#ifndef ALOG_INGEST_CLIENT_H
#define ALOG_INGEST_CLIENT_H

#include "store/err.h"

#endif
