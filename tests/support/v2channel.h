#pragma once

// A blocking v2 client on any connected socket (plain TCP or TLS), for tests that talk to a
// server in another thread or process.

#include "protocol/protocol.h"

#include <optional>

class QTcpSocket;

namespace edgelens::test {

class V2Channel final
{
    Q_DISABLE_COPY_MOVE(V2Channel)

public:
    explicit V2Channel(QTcpSocket *socket);

    void send(const QByteArray &bytes);
    // The next message from the server; nullopt on timeout, a parse error, or when the server
    // closed first.
    std::optional<protocol::Message> next(int timeoutMs = 20000);
    std::optional<protocol::Message> request(const protocol::Message &message, int timeoutMs = 20000);
    bool serverPreambleSeen() const { return m_reader.preambleSeen(); }

private:
    QTcpSocket *m_socket;
    protocol::FrameReader m_reader{protocol::FrameReader::Mode::V2};
};

} // namespace edgelens::test
