// Reading a commit message's commit_time (see commit_time.hpp).
#include "sync/pure/commit_time.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace es::sync {

int64_t unix_now_us()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {

// The fields of text when its first 20 bytes are exactly "DDDD-DD-DDTDD:DD:DD." (D an ASCII
// digit), the form the plugin writes: sscanf's "%4d-%2d-%2dT%2d:%2d:%2d.%n" reads every field
// from its digits there and stops at 20, so this gives what it gives, at a small part of its
// cost (sscanf was most of a commit message's reading). Any other text goes to sscanf itself,
// whose own rules (white space before a field, a sign, fewer digits) decide it.
bool canonical_fields(std::string_view text, int &year, int &month, int &day, int &hour, int &minute, int &second)
{
    static constexpr char kForm[] = "DDDD-DD-DDTDD:DD:DD.";
    for (size_t i = 0; i < 20; i++) {
        char c = text[i];
        if (kForm[i] == 'D' ? (c < '0' || c > '9') : c != kForm[i])
            return false;
    }
    auto digits = [&](size_t at, size_t n) {
        int v = 0;
        for (size_t i = at; i < at + n; i++)
            v = v * 10 + (text[i] - '0');
        return v;
    };
    year = digits(0, 4);
    month = digits(5, 2);
    day = digits(8, 2);
    hour = digits(11, 2);
    minute = digits(14, 2);
    second = digits(17, 2);
    return true;
}

}  // namespace

int64_t commit_time_unix_us(std::string_view text)
{
    if (text.size() != 27 || text[26] != 'Z')
        return 0;
    int year, month, day, hour, minute, second, used = 0;
    if (!canonical_fields(text, year, month, day, hour, minute, second)) {
        // sscanf needs a terminated string: the 27 bytes, a terminator after them (a NUL among
        // them, which only a decoded \u0000 can put there, ends the scan as in the string itself).
        char terminated[28];
        std::memcpy(terminated, text.data(), 27);
        terminated[27] = '\0';
        if (std::sscanf(terminated, "%4d-%2d-%2dT%2d:%2d:%2d.%n", &year, &month, &day, &hour, &minute, &second,
                        &used) != 6 ||
            used != 20)
            return 0;
    }
    int64_t micros = 0;
    for (size_t i = 20; i < 26; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        micros = micros * 10 + (text[i] - '0');
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return static_cast<int64_t>(timegm(&tm)) * 1000000 + micros;
}

}  // namespace es::sync
