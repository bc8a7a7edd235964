/*
 * config: the daemon's configuration file (SPEC.md "Configuration file"):
 * the inventory of components with their tier, availability target,
 * owner, probe interval and breaker settings; the failover target; the
 * business hours; the weight of half-open time. Without a file, the
 * built-in inventory is used.
 *
 * This is the one adapter of ingest/ that includes cJSON. The file is
 * first checked by the strict event-JSON scanner (ingest/json.h: RFC 8259
 * grammar, UTF-8, no NUL, no duplicate key, bounded depth), then read as
 * a tree. Every refusal names the file and the JSON path
 * ("components[2].breaker.threshold must be an integer 1..1000") or, for
 * a syntax fault, the line, column and byte offset. Unknown keys are
 * refused.
 *
 * Invariants of a parsed struct alog_config: 1..ALOG_CONFIG_COMPONENTS_MAX
 * + 1 components with distinct valid names; exactly one of them is
 * "primary_store" and it is the only one with daemon_owned = 1; every
 * breaker config passes alog_breaker_config_check.
 */
#ifndef ALOG_INGEST_CONFIG_H
#define ALOG_INGEST_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/breaker.h"
#include "store/err.h"

/* Limits (SPEC.md "Limits"). */
#define ALOG_CONFIG_FILE_MAX (1024 * 1024)   /* bytes in the file */
#define ALOG_CONFIG_DEPTH_MAX 8              /* nested objects/arrays */
#define ALOG_CONFIG_COMPONENTS_MAX 64        /* entries of "components" */
#define ALOG_CONFIG_NAME_MAX ALOG_BREAKER_COMPONENT_MAX
#define ALOG_CONFIG_OWNER_MAX 128            /* bytes in "owner" */
#define ALOG_CONFIG_PROBE_INTERVAL_MAX_S 86400
#define ALOG_CONFIG_WINDOW_MAX_S 86400
#define ALOG_CONFIG_OPEN_TIMEOUT_MAX_S 86400
#define ALOG_CONFIG_FAILOVER_TARGET_MAX_S 3600

/* The daemon's own component (guards the primary store). */
#define ALOG_CONFIG_PRIMARY_STORE "primary_store"
/* Default cap of backed-off open timeouts, seconds (at least the open
 * timeout itself). */
#define ALOG_CONFIG_OPEN_TIMEOUT_CAP_DEFAULT_S 300

enum alog_config_tier {
	ALOG_TIER_CRITICAL = 0,
	ALOG_TIER_GENERAL,
};

struct alog_config_component {
	char name[ALOG_CONFIG_NAME_MAX + 1];
	enum alog_config_tier tier;
	uint32_t target_ppm;          /* availability target, parts per
					 million: 999000 = 99.9 % */
	char owner[ALOG_CONFIG_OWNER_MAX + 1]; /* "" when not given */
	uint32_t probe_interval_s;    /* expected seconds between probes */
	int daemon_owned;             /* 1: only the daemon writes its
					 breaker.transition events */
	struct alog_breaker_config breaker;
};

struct alog_config_hours {
	uint32_t start_min;   /* minutes after local midnight, 0..1439 */
	uint32_t end_min;     /* start_min < end_min <= 1440 */
	uint32_t days;        /* bit d set for ISO weekday d (1 = Monday) */
	int32_t tz_offset_min;/* local = UTC + offset; -840..840 */
};

/*
 * A configuration. All-zero is empty; release with alog_config_release.
 * components is owned by the struct.
 */
struct alog_config {
	struct alog_config_component *components;
	size_t n_components;
	uint32_t failover_target_s;     /* 1..ALOG_CONFIG_FAILOVER_TARGET_MAX_S */
	struct alog_config_hours business_hours;
	uint32_t partial_weight_permille; /* weight of half-open time, 0..1000 */
	int from_file;                  /* 0: the built-in inventory */
	unsigned char hash[32];         /* SHA-256 of the file's bytes */
	char hash_hex[65];              /* lowercase hex of hash; "" when
					   built in */
};

const char *alog_config_tier_name(enum alog_config_tier t);

/* Fill c with the defaults of tier for component name (len bytes, a valid
 * component name): target, probe interval, breaker. daemon_owned is set
 * for ALOG_CONFIG_PRIMARY_STORE. ALOG_EINVAL for a bad name or tier. */
int alog_config_component_defaults(struct alog_config_component *c,
				   const char *name, size_t len,
				   enum alog_config_tier tier,
				   struct alog_err *err);

/* The built-in configuration: dashboard_stats (general),
 * dashboard_activities (critical), security_summary (critical),
 * primary_store (critical, daemon-owned), and the default failover
 * target, business hours and partial weight. cfg is overwritten. */
int alog_config_builtin(struct alog_config *cfg, struct alog_err *err);

/*
 * Parse len bytes of configuration text; name (a file name) prefixes every
 * message. On success cfg is overwritten (its earlier content is not
 * freed) and holds the file's hash; on failure cfg is left all-zero and
 * err says what and where (ALOG_EINVAL, ALOG_ELIMIT for a limit, ALOG_ENOMEM).
 */
int alog_config_parse(struct alog_config *cfg, const char *text, size_t len,
		      const char *name, struct alog_err *err);

/* Read the file at path (at most ALOG_CONFIG_FILE_MAX bytes) and parse
 * it. ALOG_EIO or ALOG_ENOTFOUND when it can't be read. */
int alog_config_load(struct alog_config *cfg, const char *path,
		     struct alog_err *err);

void alog_config_release(struct alog_config *cfg);

/* The component named name (len bytes), or NULL. Borrowed from cfg. */
const struct alog_config_component *
alog_config_component_find(const struct alog_config *cfg, const char *name,
			   size_t len);

/* 1 when time us (UTC) lies within the business hours: the local time
 * (UTC + tz offset) is on one of the days, at or after start and before
 * end. */
int alog_config_in_business_hours(const struct alog_config *cfg,
				  int64_t us);

#endif
