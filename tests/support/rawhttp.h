#pragma once

// HTTP/1.1 on a bare socket, for tests that must see exactly what a server sends (status
// lines, Retry-After, Connection: close, the order of pipelined answers, when it closes),
// which QNetworkAccessManager hides.

#include <QByteArray>
#include <QHostAddress>
#include <QList>

#include <optional>

class QTcpSocket;

namespace edgelens::test {

struct RawHttpAnswer
{
    int status = 0;
    QByteArray head; // status line and headers
    QByteArray body;
    QByteArray header(const QByteArray &name) const; // case-insensitive; empty when absent
};

// Takes the complete answers (Content-Length framed) off the front of `buffer`.
QList<RawHttpAnswer> takeHttpAnswers(QByteArray *buffer);

// Connects from `from` (any local address when null) to 127.0.0.1:port; false on failure.
bool connectFrom(QTcpSocket &socket, quint16 port, const QHostAddress &from = {});

// One request on a fresh connection; the first answer, or nullopt when none came in time.
std::optional<RawHttpAnswer> rawHttpRequest(quint16 port, const QByteArray &request, const QHostAddress &from = {},
                                            int timeoutMs = 30000);

// A multipart/form-data POST as DeepStack clients send it: `image` as a file field, then
// plain fields.
QByteArray deepStackPost(const QByteArray &path, const QByteArray &image,
                         const QList<QPair<QByteArray, QByteArray>> &fields = {}, const QByteArray &extraHeaders = {});

// A field of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"); -1 when it cannot be read.
qint64 procStatusKb(qint64 pid, const QByteArray &field);
// Resets the process's peak resident size (VmHWM) to its current one: "5" to clear_refs.
bool resetPeakRss(qint64 pid);

} // namespace edgelens::test
