// Text output of integers and ISO timestamps (see value_format.hpp).
#include "electric_shapes/pure/value_format.hpp"

#include <charconv>
#include <cstring>
#include <limits>

namespace es::format {

namespace {

constexpr int64_t kMicrosecondsPerSecond = 1000000;
constexpr int64_t kMicrosecondsPerDay = 86400 * kMicrosecondsPerSecond;
// Days from 1970-01-01 (where the civil calendar below counts from) to 2000-01-01 (PostgreSQL's).
constexpr int64_t kDaysFrom1970To2000 = 10957;

// The proleptic Gregorian date of a day number counted from 1970-01-01 (H. Hinnant's
// days_from_civil inverse), the calendar PostgreSQL's j2date uses too.
void civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto day_of_era = static_cast<unsigned>(days - era * 146097);
    const unsigned year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const unsigned month_index = (5 * day_of_year + 2) / 153;  // from March
    *day = day_of_year - (153 * month_index + 2) / 5 + 1;
    *month = month_index < 10 ? month_index + 3 : month_index - 9;
    *year = static_cast<int64_t>(year_of_era) + era * 400 + (*month <= 2 ? 1 : 0);
}

// "00" to "99": two digits at a time.
constexpr char kTwoDigits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// Writes value (below 100) as two digits.
char *two_digits(char *out, unsigned value)
{
    memcpy(out, kTwoDigits + 2 * value, 2);
    return out + 2;
}

// Writes a year (1 and up) with at least four digits, as pg_ultostr_zeropad(year, 4) does.
char *year_digits(char *out, uint64_t year)
{
    if (year < 10000)
        return two_digits(two_digits(out, static_cast<unsigned>(year / 100)), static_cast<unsigned>(year % 100));
    return std::to_chars(out, out + 8, year).ptr;
}

}  // namespace

size_t signed_integer(int64_t value, char *out)
{
    return static_cast<size_t>(std::to_chars(out, out + kMaxText, value).ptr - out);
}

size_t unsigned_integer(uint64_t value, char *out)
{
    return static_cast<size_t>(std::to_chars(out, out + kMaxText, value).ptr - out);
}

size_t iso_timestamp(int64_t microseconds, bool utc_offset, char *out)
{
    // PostgreSQL's infinities are the extreme int64 values.
    if (microseconds == std::numeric_limits<int64_t>::min() ||
        microseconds == std::numeric_limits<int64_t>::max())
        return 0;
    int64_t days = microseconds / kMicrosecondsPerDay;
    int64_t time = microseconds % kMicrosecondsPerDay;
    if (time < 0) {
        time += kMicrosecondsPerDay;
        days -= 1;
    }
    int64_t year;
    unsigned month, day;
    civil_from_days(days + kDaysFrom1970To2000, &year, &month, &day);
    if (year < 1)
        return 0;  // BC dates: PostgreSQL writes them differently

    const auto seconds_of_day = static_cast<unsigned>(time / kMicrosecondsPerSecond);
    const auto fraction = static_cast<uint32_t>(time % kMicrosecondsPerSecond);
    char *p = year_digits(out, static_cast<uint64_t>(year));
    *p++ = '-';
    p = two_digits(p, month);
    *p++ = '-';
    p = two_digits(p, day);
    *p++ = ' ';
    p = two_digits(p, seconds_of_day / 3600);
    *p++ = ':';
    p = two_digits(p, seconds_of_day / 60 % 60);
    *p++ = ':';
    p = two_digits(p, seconds_of_day % 60);
    if (fraction != 0) {
        // Six digits, trailing zeros dropped (PostgreSQL's AppendSeconds).
        *p++ = '.';
        p = two_digits(two_digits(two_digits(p, fraction / 10000), fraction / 100 % 100), fraction % 100);
        while (p[-1] == '0')
            p--;
    }
    if (utc_offset) {
        *p++ = '+';
        *p++ = '0';
        *p++ = '0';
    }
    return static_cast<size_t>(p - out);
}

}  // namespace es::format
