// Reading a commit message's commit_time (see commit_time.hpp).
#include "sync/pure/commit_time.hpp"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace es::sync {

int64_t commit_time_unix_us(std::string_view text)
{
    if (text.size() != 27 || text[26] != 'Z')
        return 0;
    // sscanf needs a terminated string: the 27 bytes, a terminator after them (a NUL among them,
    // which only a decoded \u0000 can put there, ends the scan as it would in the string itself).
    char terminated[28];
    std::memcpy(terminated, text.data(), 27);
    terminated[27] = '\0';
    int year, month, day, hour, minute, second, used = 0;
    if (std::sscanf(terminated, "%4d-%2d-%2dT%2d:%2d:%2d.%n", &year, &month, &day, &hour, &minute, &second, &used) != 6 ||
        used != 20)
        return 0;
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
