/*
 * render: the Markdown and the HTML renderings of an evidence report
 * (SPEC.md 21.4), made from the text of report.json alone (section 21),
 * so that a rendering can never say something the JSON does not.
 *
 * Both renderings hold the same sections in the same order: cover,
 * completeness, A1.2 availability, CC7.2 monitoring, tests and results
 * with the deviations register, sampling worksheet, integrity appendix,
 * definitions. The HTML
 * page is self-contained (inline CSS and SVG, no scripts, no fetched
 * resources) and prints on A4.
 *
 * Invariants: the output is a function of the JSON bytes (same JSON, same
 * bytes); every text taken from the JSON is escaped for its format
 * (HTML: & < > " '; Markdown: its punctuation), control and bidi
 * characters become U+FFFD; numbers are the JSON's integers, texts such
 * as "99.900" are the JSON's own, never recomputed ratios.
 */
#ifndef ALOG_REPORT_RENDER_H
#define ALOG_REPORT_RENDER_H

#include <stddef.h>

#include "store/buf.h"
#include "store/err.h"

/* Largest report.json a renderer reads (bytes). */
#define ALOG_RENDER_JSON_MAX 67108864
/* Largest rendering appended to out (bytes). */
#define ALOG_RENDER_OUT_MAX 1073741824
/* Deepest nesting of containers accepted in report.json. */
#define ALOG_RENDER_DEPTH_MAX 16
/* Width in pixels of every SVG chart of the HTML page. */
#define ALOG_RENDER_SVG_WIDTH 900
/* Rows of a component's days with fewer probes than expected shown (CC7.2);
 * the rest are counted ("and k more days"). */
#define ALOG_RENDER_SHORT_DAYS_ROWS 31
/* Rows of the anomalies table shown; the rest are counted. */
#define ALOG_RENDER_ANOMALY_ROWS 200
/* Log indices shown per anomaly; the rest are counted. */
#define ALOG_RENDER_ANOMALY_INDICES 8
/* The only schema rendered. */
#define ALOG_RENDER_SCHEMA "auditlog-report/1"

/*
 * Render the report JSON (len bytes, one JSON object; a trailing newline
 * is fine) and append the rendering to out. Returns 0; ALOG_EINVAL when
 * the text is not JSON, its "schema" is not "auditlog-report/1", or a
 * member the rendering needs is missing or of the wrong type (the message
 * names the member's path, e.g. "a1_2.components[1].tier"); ALOG_ELIMIT
 * past ALOG_RENDER_JSON_MAX, ALOG_RENDER_DEPTH_MAX or ALOG_RENDER_OUT_MAX
 * (or out's own max); ALOG_ENOMEM. On failure out is left as it was.
 */
int alog_render_markdown(const char *json, size_t len, struct alog_buf *out,
			 struct alog_err *err);
int alog_render_html(const char *json, size_t len, struct alog_buf *out,
		     struct alog_err *err);

#endif
