// Many lean shape clients in one native process, for test/bench/sync's latency part.
//
// One Node process parsing a thousand responses per change measures Node more than the service:
// a change to a shape shared by 1,000 clients is 1,000 HTTP responses, and a single event loop
// takes them one by one. A browser is one client on its own machine. This program is the same
// lean protocol client as the driver's LeanClient (GET /v1/shape as Electric's clients send it:
// initial sync from offset -1 until up-to-date, then live long-polls with handle, offset and
// cursor; every body parsed as JSON), with all its sockets on one epoll loop, so that per
// response it costs a few microseconds and the figure is the service's.
//
//   sync_native_clients HOST PORT PATH QUERIES_FILE [sse]
//
// With sse, the live requests are Electric's server-sent events (live_sse=true, as ShapeStream
// with liveSse: true asks): one response per client that stays open, each change a `data:`
// frame of its chunked body, so a change costs a client one read and no new request.
// QUERIES_FILE holds one client per line: its shape's query string (table, where, params),
// URL-encoded. Output on stdout, one line each:
//   ready                          every client is up to date and its first live request is out
//   change <client> <ms> <body>    a row with a string "body" received in a live response;
//                                  <ms> is CLOCK_MONOTONIC in milliseconds when its response was
//                                  parsed (Node's process.hrtime is the same clock)
//   error <client> <what>          a failed request (the client starts again after 100 ms)
//   bytes <n>                      the size of the first live response (SSE: chunk) carrying a
//                                  row, for the floor it is compared with (sync_fanout_floor.cpp)
// It runs until its standard input is closed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
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

std::string out;  // lines written after each round of events

void flush_out()
{
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::write(1, out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            std::exit(1);
        done += static_cast<size_t>(n);
    }
    out.clear();
}

struct Client {
    int index = 0;
    std::string query;
    int fd = -1;
    std::string handle, offset = "-1", cursor;
    bool live = false;          // up to date once: requests are long-polls
    bool announced = false;     // counted towards "ready"
    std::string request;        // bytes still to send
    size_t sent = 0;
    bool waiting_writable = false;  // EPOLLOUT asked for: connecting, or the socket was full
    std::string in;             // bytes of the response received so far
    bool streaming = false;     // an SSE response's headers are read: in holds its chunked body
    std::string events;         // SSE: the stream's text not yet split into events
    std::string last_seen_lsn;  // SSE: global_last_seen_lsn of the latest up-to-date
    double retry_at = 0;        // after an error: when to start again
};

sockaddr_in server{};
std::string host_header, path;
int epfd;
bool sse = false;
bool sized = false;        // "bytes" written
bool changes_seen = false;  // a "change" written

void note_size(size_t bytes)
{
    if (!sized && changes_seen) {
        sized = true;
        out += "bytes " + std::to_string(bytes) + "\n";
    }
}

void fail(Client &c, const std::string &what)
{
    out += "error " + std::to_string(c.index) + " " + what + "\n";
    if (c.fd >= 0) {
        ::close(c.fd);
        c.fd = -1;
    }
    c.retry_at = monotonic_ms() + 100;
}

bool connect_client(Client &c)
{
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        fail(c, std::string("socket: ") + std::strerror(errno));
        return false;
    }
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<sockaddr *>(&server), sizeof server) != 0 && errno != EINPROGRESS) {
        fail(c, std::string("connect: ") + std::strerror(errno));
        return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = &c;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, c.fd, &ev);
    c.waiting_writable = true;
    return true;
}

// Writes what is left of the request; asks for EPOLLOUT only while the socket is full, so a
// request costs one write, as a browser's does, and no epoll_ctl.
void write_request(Client &c)
{
    while (c.sent < c.request.size()) {
        ssize_t n = ::write(c.fd, c.request.data() + c.sent, c.request.size() - c.sent);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (!c.waiting_writable) {
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLOUT;
                ev.data.ptr = &c;
                ::epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
                c.waiting_writable = true;
            }
            return;
        }
        if (n < 0) {
            fail(c, std::string("write: ") + std::strerror(errno));
            return;
        }
        c.sent += static_cast<size_t>(n);
    }
    if (c.waiting_writable) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &c;
        ::epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
        c.waiting_writable = false;
    }
}

void send_request(Client &c)
{
    bool connecting = c.fd < 0;
    if (connecting && !connect_client(c))
        return;
    std::string target = path + "?" + c.query + "&offset=" + c.offset;
    if (!c.handle.empty())
        target += "&handle=" + c.handle;
    if (c.live) {
        target += "&live=true";
        if (!c.cursor.empty())
            target += "&cursor=" + c.cursor;
        if (sse)
            target += "&experimental_live_sse=true&live_sse=true";
    }
    c.request = "GET " + target + " HTTP/1.1\r\nHost: " + host_header + "\r\n" +
                (c.live && sse ? "Accept: text/event-stream\r\n" : "") + "\r\n";
    c.sent = 0;
    c.in.clear();
    c.streaming = false;
    c.events.clear();
    if (!connecting)  // else EPOLLOUT says when the connection is up
        write_request(c);
}

std::string header(const std::string &head, const char *name)
{
    // Header names are compared case-insensitively; each line is "name: value".
    size_t n = std::strlen(name);
    for (size_t at = head.find("\r\n"); at != std::string::npos && at + 2 < head.size();) {
        size_t start = at + 2;
        size_t end = head.find("\r\n", start);
        if (end == std::string::npos)
            end = head.size();
        if (end - start > n && head[start + n] == ':' && strncasecmp(head.c_str() + start, name, n) == 0) {
            size_t v = start + n + 1;
            while (v < end && head[v] == ' ')
                v++;
            return head.substr(v, end - v);
        }
        at = end;
    }
    return "";
}

// One message of a response or of an SSE stream; returns whether it is an up-to-date.
bool on_message(Client &c, const nlohmann::json &m, double parsed_at)
{
    bool up_to_date = false;
    auto headers = m.find("headers");
    if (headers != m.end() && headers->value("control", "") == "up-to-date")
        up_to_date = true;
    auto value = m.find("value");
    if (c.live && value != m.end() && value->is_object()) {
        auto b = value->find("body");
        if (b != value->end() && b->is_string()) {
            char at[32];
            std::snprintf(at, sizeof at, "%.3f", parsed_at);
            out += "change " + std::to_string(c.index) + " " + at + " " + b->get<std::string>() + "\n";
            changes_seen = true;
        }
    }
    return up_to_date;
}

// A whole response is in c.in: act on it. Returns false when the connection was failed.
bool on_response(Client &c, const std::string &head, const std::string &body)
{
    int status = std::atoi(head.c_str() + 9);  // "HTTP/1.1 200 OK"
    if (status != 200) {
        if (status == 409) {  // must-refetch: start again from the beginning
            c.handle.clear();
            c.offset = "-1";
            c.live = false;
        }
        fail(c, "status " + std::to_string(status));
        return false;
    }
    double parsed_at;
    nlohmann::json messages;
    try {
        messages = nlohmann::json::parse(body);
        parsed_at = monotonic_ms();
    } catch (const std::exception &e) {
        fail(c, std::string("body: ") + e.what());
        return false;
    }
    c.handle = header(head, "electric-handle");
    c.offset = header(head, "electric-offset");
    std::string cursor = header(head, "electric-cursor");
    if (!cursor.empty())
        c.cursor = cursor;
    bool up_to_date = false;
    for (const auto &m : messages)
        up_to_date |= on_message(c, m, parsed_at);
    if (up_to_date)
        c.live = true;
    return true;
}

// The SSE stream's chunks in c.in: their text goes to c.events, whose complete events (blank
// line ended, one `data:` line each) are parsed one by one. The last chunk ends the stream:
// the next one starts from the offset of its latest up-to-date, as ShapeStream does.
void on_stream(Client &c)
{
    size_t at = 0;
    size_t chunk_bytes = 0;
    for (;;) {
        size_t line_end = c.in.find("\r\n", at);
        if (line_end == std::string::npos)
            break;
        size_t size = std::strtoull(c.in.c_str() + at, nullptr, 16);
        if (size == 0) {
            if (!c.last_seen_lsn.empty())
                c.offset = c.last_seen_lsn + "_0";
            ::close(c.fd);
            c.fd = -1;
            send_request(c);
            return;
        }
        if (c.in.size() < line_end + 2 + size + 2)
            break;
        c.events.append(c.in, line_end + 2, size);
        chunk_bytes = line_end + 2 + size + 2 - at;
        at = line_end + 2 + size + 2;
    }
    c.in.erase(0, at);
    size_t start = 0;
    for (size_t end; (end = c.events.find("\n\n", start)) != std::string::npos; start = end + 2) {
        if (c.events.compare(start, 6, "data: ") != 0)
            continue;  // a keep-alive comment
        nlohmann::json message;
        double parsed_at;
        try {
            message = nlohmann::json::parse(c.events.begin() + static_cast<long>(start) + 6,
                                            c.events.begin() + static_cast<long>(end));
            parsed_at = monotonic_ms();
        } catch (const std::exception &e) {
            fail(c, std::string("event: ") + e.what());
            return;
        }
        if (on_message(c, message, parsed_at)) {
            const auto &lsn = message["headers"]["global_last_seen_lsn"];
            if (lsn.is_string())
                c.last_seen_lsn = lsn.get<std::string>();
        }
    }
    c.events.erase(0, start);
    note_size(chunk_bytes);
}

// Reads what the socket has; on a whole response acts on it and sends the next request.
void on_readable(Client &c)
{
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(c.fd, buf, sizeof buf);
        if (n > 0) {
            c.in.append(buf, static_cast<size_t>(n));
            if (static_cast<size_t>(n) < sizeof buf)
                break;  // all there is now (epoll is level-triggered: more wakes us again)
            continue;
        }
        if (n == 0) {
            fail(c, "connection closed");
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            break;
        fail(c, std::string("read: ") + std::strerror(errno));
        return;
    }
    if (c.streaming) {
        on_stream(c);
        return;
    }
    size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos)
        return;
    std::string head = c.in.substr(0, end);
    if (c.live && sse && std::atoi(head.c_str() + 9) == 200) {
        c.handle = header(head, "electric-handle");
        std::string cursor = header(head, "electric-cursor");
        if (!cursor.empty())
            c.cursor = cursor;
        c.streaming = true;
        c.in.erase(0, end + 4);
        on_stream(c);
        return;
    }
    std::string length = header(head, "content-length");
    if (length.empty()) {
        fail(c, "no content-length");
        return;
    }
    size_t need = end + 4 + std::strtoull(length.c_str(), nullptr, 10);
    if (c.in.size() < need)
        return;
    if (c.in.size() > need) {
        fail(c, "bytes after the response");
        return;
    }
    if (on_response(c, head, c.in.substr(end + 4))) {
        if (c.live)
            note_size(need);
        send_request(c);
    }
}

void on_writable(Client &c) { write_request(c); }

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 6 && std::strcmp(argv[5], "sse") == 0)) {
        std::fprintf(stderr, "usage: %s HOST PORT PATH QUERIES_FILE [sse]\n", argv[0]);
        return 2;
    }
    sse = argc == 6;
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    if (::inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
        std::fprintf(stderr, "HOST must be an IPv4 address: %s\n", argv[1]);
        return 2;
    }
    host_header = std::string(argv[1]) + ":" + argv[2];
    path = argv[3];
    std::vector<Client> clients;
    {
        std::ifstream file(argv[4]);
        std::string line;
        while (std::getline(file, line))
            if (!line.empty()) {
                clients.emplace_back();
                clients.back().index = static_cast<int>(clients.size()) - 1;
                clients.back().query = line;
            }
    }
    epfd = ::epoll_create1(EPOLL_CLOEXEC);
    // Standard input closed: the driver is done with us.
    epoll_event in_ev{};
    in_ev.events = EPOLLIN;
    in_ev.data.ptr = nullptr;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &in_ev);

    // Initial syncs 50 at a time, as the driver's clients arrive; then all live.
    const size_t batch = 50;
    size_t started = 0;
    size_t live = 0;
    bool ready = false;
    std::vector<epoll_event> events(1024);
    for (;;) {
        if (!ready) {
            size_t syncing = started - live;
            while (started < clients.size() && syncing < batch) {
                send_request(clients[started++]);
                syncing++;
            }
        }
        double now = monotonic_ms();
        int timeout = -1;
        for (auto &c : clients)
            if (c.fd < 0 && c.retry_at > 0) {
                if (c.retry_at <= now) {
                    c.retry_at = 0;
                    send_request(c);
                } else {
                    int wait = static_cast<int>(c.retry_at - now) + 1;
                    timeout = timeout < 0 ? wait : std::min(timeout, wait);
                }
            }
        int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), timeout);
        if (n < 0 && errno != EINTR)
            return 1;
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == nullptr) {
                char b[256];
                if (::read(0, b, sizeof b) <= 0)
                    return 0;
                continue;
            }
            Client &c = *static_cast<Client *>(events[i].data.ptr);
            if (c.fd < 0)
                continue;
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(c);
            if (c.fd >= 0 && (events[i].events & EPOLLOUT))
                on_writable(c);
            if (c.live && !c.announced) {
                c.announced = true;
                live++;
            }
        }
        if (!ready && live == clients.size()) {
            ready = true;
            out += "ready\n";
        }
        flush_out();
    }
}
