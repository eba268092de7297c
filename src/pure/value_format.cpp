// Text output of integers and ISO timestamps (see value_format.hpp).
#include "electric_shapes/pure/value_format.hpp"

#include <charconv>
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

// Writes value with at least width digits, zero-padded, as pg_ultostr_zeropad does.
char *zero_padded(char *out, uint64_t value, int width)
{
    char digits[24];
    char *end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    for (int pad = width - static_cast<int>(end - digits); pad > 0; pad--)
        *out++ = '0';
    for (char *p = digits; p < end; p++)
        *out++ = *p;
    return out;
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

    const int64_t seconds_of_day = time / kMicrosecondsPerSecond;
    const auto fraction = static_cast<uint32_t>(time % kMicrosecondsPerSecond);
    char *p = out;
    p = zero_padded(p, static_cast<uint64_t>(year), 4);
    *p++ = '-';
    p = zero_padded(p, month, 2);
    *p++ = '-';
    p = zero_padded(p, day, 2);
    *p++ = ' ';
    p = zero_padded(p, static_cast<uint64_t>(seconds_of_day / 3600), 2);
    *p++ = ':';
    p = zero_padded(p, static_cast<uint64_t>(seconds_of_day / 60 % 60), 2);
    *p++ = ':';
    p = zero_padded(p, static_cast<uint64_t>(seconds_of_day % 60), 2);
    if (fraction != 0) {
        // Six digits, trailing zeros dropped (PostgreSQL's AppendSeconds).
        char digits[6];
        uint32_t rest = fraction;
        for (int i = 5; i >= 0; i--) {
            digits[i] = static_cast<char>('0' + rest % 10);
            rest /= 10;
        }
        int count = 6;
        while (digits[count - 1] == '0')
            count--;
        *p++ = '.';
        for (int i = 0; i < count; i++)
            *p++ = digits[i];
    }
    if (utc_offset) {
        *p++ = '+';
        *p++ = '0';
        *p++ = '0';
    }
    return static_cast<size_t>(p - out);
}

}  // namespace es::format
