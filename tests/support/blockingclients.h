#pragma once

// The two kinds of client a device server meets, written the blocking way for a test thread
// that talks to a server on another thread: the tutorial's legacy client (length + image out,
// length + JPEG back, then the server closes) and a v2 client on one plain TCP socket.

#include "v2channel.h"

#include "protocol/protocol.h"

#include <QTcpSocket>

#include <optional>

namespace edgelens::test {

struct LegacyReply
{
    bool replied = false;
    QByteArray jpeg;
    bool closedByServer = false;
};

// Sends frame (a whole legacy frame, or any bytes) to localhost:port and reads one reply.
LegacyReply legacyRequest(quint16 port, const QByteArray &frame, int timeoutMs = 20000);

class V2Client final
{
    Q_DISABLE_COPY_MOVE(V2Client)

public:
    V2Client() = default;

    bool connectTo(quint16 port, bool sendPreamble = true);
    void write(const QByteArray &bytes) { m_channel.send(bytes); }
    void send(const protocol::Message &message) { write(protocol::encodeMessage(message)); }
    std::optional<protocol::Message> next(int timeoutMs = 20000) { return m_channel.next(timeoutMs); }
    std::optional<protocol::Message> request(const protocol::Message &message, int timeoutMs = 20000)
    {
        return m_channel.request(message, timeoutMs);
    }
    bool waitClosed(int timeoutMs);

    bool serverPreambleSeen() const { return m_channel.serverPreambleSeen(); }
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
    V2Channel m_channel{&m_socket};
};

} // namespace edgelens::test
