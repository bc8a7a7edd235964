/*
 * clock: see clock.h. SPEC.md "Time" and "UUIDv7".
 *
 * Civil dates are converted with our own proleptic-Gregorian arithmetic
 * (no timegm, no TZ): days are counted from 0000-03-01 in years that start
 * in March, so the leap day is the last day of such a year and the month
 * lengths before it follow a fixed 153-days-per-5-months pattern.
 * Invariant: every time this module formats or parses lies in
 * [ALOG_TIME_MIN_US, ALOG_TIME_MAX_US] (years 0000..9999).
 */
#include "ingest/clock.h"

#include <string.h>
#include <time.h>

#include "store/bytes.h"
#include "store/sign.h"

#define US_PER_S INT64_C(1000000)
#define S_PER_DAY INT64_C(86400)
/* days from 0000-03-01 to 1970-01-01 */
#define EPOCH_SHIFT INT64_C(719468)
/* days in 400 Gregorian years */
#define DAYS_PER_400Y INT64_C(146097)

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of the date y-m-d (valid date assumed). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t ym = m < 3 ? y - 1 : y;          /* March-based year */
	int64_t mi = m < 3 ? m + 9 : m - 3;      /* March = 0 */
	int64_t doy = (153 * mi + 2) / 5 + d - 1;
	int64_t days = 365 * ym + floor_div(ym, 4) - floor_div(ym, 100) +
		       floor_div(ym, 400) + doy;

	return days - EPOCH_SHIFT;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t n = z + EPOCH_SHIFT;             /* days since 0000-03-01 */
	int64_t q = floor_div(n, DAYS_PER_400Y);
	int64_t r = n - q * DAYS_PER_400Y;        /* 0..146096 */
	/* years into the 400-year cycle: undo the 4/100/400 leap pattern */
	int64_t yc = (r - r / 1460 + r / 36524 - r / 146096) / 365;
	int64_t doy = r - (365 * yc + yc / 4 - yc / 100);
	int64_t mi = (5 * doy + 2) / 153;        /* March = 0 */

	*d = (int)(doy - (153 * mi + 2) / 5 + 1);
	*m = (int)(mi < 10 ? mi + 3 : mi - 9);
	*y = q * 400 + yc + (*m < 3 ? 1 : 0);
}

int64_t alog_clock_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

/* Write v (0 <= v < 10^n) as exactly n decimal digits. */
static void put_digits(char *p, int64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

int alog_time_format(int64_t us, char out[ALOG_TIME_TEXT_MAX])
{
	/* the writer formats one received time per record, most of them in
	 * the same second as the one before: this thread's last second's
	 * text is kept */
	static _Thread_local int64_t last_secs = INT64_MIN;
	static _Thread_local char last_text[20];
	int64_t secs, days, sod, frac, y;
	int m, d;

	if (us < ALOG_TIME_MIN_US || us > ALOG_TIME_MAX_US) {
		out[0] = 0;
		return -1;
	}
	secs = floor_div(us, US_PER_S);
	frac = us - secs * US_PER_S;
	if (secs != last_secs) {
		days = floor_div(secs, S_PER_DAY);
		sod = secs - days * S_PER_DAY;
		civil_from_days(days, &y, &m, &d);
		/* fixed layout "YYYY-MM-DDTHH:MM:SS", every field in range */
		memcpy(last_text, "0000-00-00T00:00:00", 19);
		put_digits(last_text, y, 4);
		put_digits(last_text + 5, m, 2);
		put_digits(last_text + 8, d, 2);
		put_digits(last_text + 11, sod / 3600, 2);
		put_digits(last_text + 14, sod / 60 % 60, 2);
		put_digits(last_text + 17, sod % 60, 2);
		last_secs = secs;
	}
	memcpy(out, last_text, 19);
	memcpy(out + 19, ".000000Z", 9);
	put_digits(out + 20, frac, 6);
	return 0;
}

/* n decimal digits at s as a number, or -1. */
static int64_t digits(const char *s, size_t n)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int bad(struct alog_err *err, const char *what, size_t off)
{
	return alog_err_set(err, ALOG_EINVAL, "bad time: %s at byte %zu",
			    what, off);
}

int alog_time_parse(const char *s, size_t len, int allow_date, int64_t *us,
		    struct alog_err *err)
{
	int64_t y, mo, d, h, mi, sec, frac = 0, off_s = 0, days, v;
	size_t i, k;

	if (len < 10)
		return bad(err, "date too short", len);
	y = digits(s, 4);
	if (y < 0 || s[4] != '-')
		return bad(err, "year expected", 0);
	mo = digits(s + 5, 2);
	if (mo < 1 || mo > 12 || s[7] != '-')
		return bad(err, "month 01..12 expected", 5);
	d = digits(s + 8, 2);
	if (d < 1 || d > month_days(y, (int)mo))
		return bad(err, "day not in the month", 8);
	days = days_from_civil(y, (int)mo, (int)d);
	if (len == 10) {
		if (!allow_date)
			return bad(err, "'T' and a time expected", 10);
		*us = days * S_PER_DAY * US_PER_S;
		return 0;
	}
	if (s[10] != 'T' && s[10] != 't')
		return bad(err, "'T' expected", 10);
	if (len < 20)
		return bad(err, "time too short", len);
	h = digits(s + 11, 2);
	if (h < 0 || h > 23 || s[13] != ':')
		return bad(err, "hour 00..23 expected", 11);
	mi = digits(s + 14, 2);
	if (mi < 0 || mi > 59 || s[16] != ':')
		return bad(err, "minute 00..59 expected", 14);
	sec = digits(s + 17, 2);
	if (sec < 0 || sec > 59)
		return bad(err, "second 00..59 expected", 17);
	i = 19;
	if (s[i] == '.') {
		i++;
		for (k = 0; i < len && s[i] >= '0' && s[i] <= '9'; k++, i++) {
			if (k >= 9)
				return bad(err, "more than 9 fraction digits",
					   i);
			/* keep microseconds, truncate the rest */
			if (k < 6)
				frac = frac * 10 + (s[i] - '0');
		}
		if (k == 0)
			return bad(err, "fraction digit expected", i);
		for (; k < 6; k++)
			frac *= 10;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		int64_t oh, om;

		if (len - i < 6 || s[i + 3] != ':')
			return bad(err, "offset +hh:mm expected", i);
		oh = digits(s + i + 1, 2);
		om = digits(s + i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return bad(err, "offset +hh:mm expected", i);
		off_s = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else {
		return bad(err, "'Z' or an offset expected", i);
	}
	if (i != len)
		return bad(err, "bytes after the time", i);
	/* local time minus its offset is UTC */
	v = (days * S_PER_DAY + h * 3600 + mi * 60 + sec - off_s) * US_PER_S +
	    frac;
	if (v < ALOG_TIME_MIN_US || v > ALOG_TIME_MAX_US)
		return bad(err, "utc time outside years 0000..9999", 0);
	*us = v;
	return 0;
}

int alog_time_parse_record(const char *s, size_t len, int64_t *us)
{
	/* alog_time_format's layout "YYYY-MM-DDTHH:MM:SS.ffffffZ": upper-case
	 * 'T' and 'Z', exactly six fraction digits. XORed with form, a digit
	 * becomes its value (0..9: no other byte does) and a separator 0;
	 * the five bytes past the text stay 0. Then the fields' ranges are
	 * alog_time_parse's, and every such time lies in years 0000..9999. */
	static const char form[32] = "0000-00-00T00:00:00.000000Z";
	static const unsigned char sep[32] = {
		[4] = 0xFF, [7] = 0xFF, [10] = 0xFF, [13] = 0xFF, [16] = 0xFF,
		[19] = 0xFF, [26] = 0xFF,
	};
	const uint64_t low7 = UINT64_C(0x7F7F7F7F7F7F7F7F);
	const uint64_t plus = UINT64_C(0x7676767676767676);
	const uint64_t highs = UINT64_C(0x8080808080808080);
	unsigned char x[32] = { 0 };
	int64_t y, mo, d, h, mi, sec, frac;
	uint64_t bad = 0;
	size_t i;

	if (len != ALOG_TIME_RECORD_LEN)
		return -1;
	memcpy(x, s, ALOG_TIME_RECORD_LEN);
	for (i = 0; i < sizeof(x); i += 8) {
		uint64_t w, f, m;

		memcpy(&w, x + i, 8);
		memcpy(&f, form + i, 8);
		memcpy(&m, sep + i, 8);
		w ^= f;
		memcpy(x + i, &w, 8);
		/* a byte above 9 sets its high bit here (no carry leaves a
		 * byte: its low seven bits plus 0x76 stay below 0x100) */
		bad |= (((w & low7) + plus) | w) & highs;
		bad |= w & m;
	}
	if (bad)
		return -1;
	y = x[0] * 1000 + x[1] * 100 + x[2] * 10 + x[3];
	mo = x[5] * 10 + x[6];
	d = x[8] * 10 + x[9];
	h = x[11] * 10 + x[12];
	mi = x[14] * 10 + x[15];
	sec = x[17] * 10 + x[18];
	frac = ((((x[20] * 10 + x[21]) * 10 + x[22]) * 10 + x[23]) * 10 +
		x[24]) * 10 + x[25];
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, (int)mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return -1;
	*us = (days_from_civil(y, (int)mo, (int)d) * S_PER_DAY + h * 3600 +
	       mi * 60 + sec) * US_PER_S + frac;
	return 0;
}

int alog_uuid7(int64_t us, char out[37], struct alog_err *err)
{
	unsigned char b[16];
	char hex[33];
	int64_t ms;
	unsigned sub;
	int rc;

	out[0] = 0;
	if (us < 0)
		return alog_err_set(err, ALOG_EINVAL,
				    "uuid7: time before 1970");
	ms = us / 1000;
	if (ms >= (INT64_C(1) << 48))
		return alog_err_set(err, ALOG_EINVAL,
				    "uuid7: time beyond the 48-bit ms range");
	rc = alog_random(b + 6, 10, err);
	if (rc < 0)
		return rc;
	b[0] = (unsigned char)(ms >> 40);
	b[1] = (unsigned char)(ms >> 32);
	b[2] = (unsigned char)(ms >> 24);
	b[3] = (unsigned char)(ms >> 16);
	b[4] = (unsigned char)(ms >> 8);
	b[5] = (unsigned char)ms;
	/* rand_a (12 bits) carries the sub-millisecond fraction, RFC 9562
	 * section 6.2 method 3: floor(frac * 4096) */
	sub = (unsigned)((us % 1000) * 4096 / 1000);
	b[6] = (unsigned char)(0x70 | (sub >> 8));
	b[7] = (unsigned char)sub;
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3F));
	alog_hex_encode(b, sizeof(b), hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = 0;
	return 0;
}
