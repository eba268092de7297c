// The floor under test/bench/sync's shared-shape latency: what this machine's kernel lets any
// server reach, without PostgreSQL, a log or HTTP parsing, when one change goes to N clients on
// loopback TCP.
//
// A change to a shape shared by 1,000 clients is 1,000 responses, each its own send on its own
// socket; on a virtual machine each send (with the loopback delivery into the client's socket
// that the kernel does inside it) costs microseconds that no server can save. This program
// measures that alone: a writer process sends one response-sized message (HTTP headers and a
// JSON body naming the time the round started) to each of N connected sockets in a loop, as the
// service's wake does; a reader process, every socket on one epoll loop as in
// sync_native_clients.cpp, reads each message, parses its body as JSON and, in the long-poll
// mode, writes a request back, which the writer reads once its round is sent, as the service
// reads the next long-polls. The latency of a delivery is from the round's start until its
// message is parsed: the figure a server with no cost of its own would get beside these clients.
//
//   sync_fanout_floor N ROUNDS MESSAGE_BYTES [sse]
//
// sse: no request back, as an SSE stream's client sends none. Rounds are 50 ms apart. Output, one
// line: p50 p99 max (milliseconds) and the writer's CPU µs per delivery.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

double monotonic_ms()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

[[noreturn]] void die(const char *what)
{
    std::fprintf(stderr, "sync_fanout_floor: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

void write_all(int fd, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("write");
        data += n;
        size -= static_cast<size_t>(n);
    }
}

const char kRequest[] =
    "GET /v1/shape?table=bench_items&where=shape_id+%3D+%241&params%5B1%5D=0&offset=0_0&handle=1-1&live=true"
    "&cursor=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// The clients: each message whole in one read (they are small and sent in one write), its body
// parsed, the delivery's latency kept; then the request back.
void read_rounds(const std::vector<int> &fds, int rounds, bool sse, int report)
{
    int epfd = ::epoll_create1(0);
    for (size_t i = 0; i < fds.size(); i++) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &ev);
    }
    std::vector<double> latencies;
    size_t expected = fds.size() * static_cast<size_t>(rounds);
    std::vector<epoll_event> events(1024);
    std::vector<char> buffer(65536);
    while (latencies.size() < expected) {
        int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), 10000);
        if (n <= 0)
            break;  // nothing for 10 s: report what arrived
        for (int e = 0; e < n; e++) {
            int fd = fds[events[e].data.u64];
            ssize_t got = ::read(fd, buffer.data(), buffer.size());
            if (got <= 0)
                die("read");
            std::string message(buffer.data(), static_cast<size_t>(got));
            size_t body = message.find("\r\n\r\n");
            auto parsed = nlohmann::json::parse(message.begin() + static_cast<long>(body) + 4, message.end());
            double at = monotonic_ms();
            std::string t = parsed[0]["value"]["body"].get<std::string>();
            latencies.push_back(at - std::strtod(t.c_str() + 2, nullptr));
            if (!sse)
                write_all(fd, kRequest, sizeof kRequest - 1);
        }
    }
    std::sort(latencies.begin(), latencies.end());
    auto at = [&](double p) {
        size_t i = static_cast<size_t>(p / 100 * static_cast<double>(latencies.size()));
        return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, i)];
    };
    std::string line = std::to_string(at(50)) + " " + std::to_string(at(99)) + " " +
                       std::to_string(latencies.empty() ? 0.0 : latencies.back()) + " " +
                       std::to_string(latencies.size()) + "\n";
    write_all(report, line.data(), line.size());
}

std::string message_of(double started, size_t size)
{
    std::string body = "[{\"key\":\"\\\"public\\\".\\\"bench_items\\\"/\\\"1\\\"\",\"value\":{\"body\":\"t:" +
                       std::to_string(started) +
                       "\",\"id\":\"1\",\"shape_id\":\"0\"},\"headers\":{\"operation\":\"insert\","
                       "\"relation\":[\"public\",\"bench_items\"],\"lsn\":\"1\",\"op_position\":0,\"txids\":[1]}},"
                       "{\"headers\":{\"control\":\"up-to-date\",\"global_last_seen_lsn\":\"1\"}}]";
    std::string head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " +
                       std::to_string(body.size()) + "\r\nx-padding: ";
    // Padded to the size of the service's response (its headers are most of it).
    size_t rest = size > head.size() + body.size() + 4 ? size - head.size() - body.size() - 4 : 0;
    head += std::string(rest, 'x') + "\r\n\r\n";
    return head + body;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 4 && !(argc == 5 && std::strcmp(argv[4], "sse") == 0)) {
        std::fprintf(stderr, "usage: %s N ROUNDS MESSAGE_BYTES [sse]\n", argv[0]);
        return 2;
    }
    int n = std::atoi(argv[1]);
    int rounds = std::atoi(argv[2]);
    size_t size = static_cast<size_t>(std::atoi(argv[3]));
    bool sse = argc == 5;

    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);

    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 ||
        ::listen(listener, 4096) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        die("listen");
    std::vector<int> clients, served;
    int one = 1;
    for (int i = 0; i < n; i++) {
        int c = ::socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || ::connect(c, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0)
            die("connect");
        int s = ::accept(listener, nullptr, nullptr);
        if (s < 0)
            die("accept");
        ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        clients.push_back(c);
        served.push_back(s);
    }
    int report[2];
    if (::pipe(report) != 0)
        die("pipe");
    pid_t reader = ::fork();
    if (reader == 0) {
        for (int s : served)
            ::close(s);
        read_rounds(clients, rounds, sse, report[1]);
        std::_Exit(0);
    }
    for (int c : clients)
        ::close(c);

    int epfd = ::epoll_create1(0);
    for (int s : served) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = s;
        ::epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev);
    }
    timespec cpu0, cpu1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
    std::vector<epoll_event> events(1024);
    char sink[4096];
    for (int round = 0; round < rounds; round++) {
        double started = monotonic_ms();
        std::string message = message_of(started, size);
        for (int s : served)
            write_all(s, message.data(), message.size());
        for (int requests = 0; !sse && requests < n;) {
            int got = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), 10000);
            if (got <= 0)
                break;
            for (int e = 0; e < got; e++)
                if (::read(events[e].data.fd, sink, sizeof sink) > 0)
                    requests++;
        }
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
        timespec pause{0, 50 * 1000 * 1000};
        ::nanosleep(&pause, nullptr);
    }
    double cpu_us = (static_cast<double>(cpu1.tv_sec - cpu0.tv_sec) * 1e6 +
                     static_cast<double>(cpu1.tv_nsec - cpu0.tv_nsec) / 1e3) /
                    (static_cast<double>(n) * rounds);
    ::close(report[1]);
    char line[256] = {};
    ssize_t got = ::read(report[0], line, sizeof line - 1);
    ::waitpid(reader, nullptr, 0);
    if (got <= 0)
        die("reader");
    line[got - 1] = '\0';
    std::printf("%s %.1f\n", line, cpu_us);
    return 0;
}
