#pragma once

// A minimal HTTP/1.1 file server for download tests: GET /<name>, honouring
// "Range: bytes=N-" unless told not to, and able to cut a transfer halfway once.

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QTcpServer>

class QTcpSocket;

namespace edgelens::test {

class HttpTestServer final : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpTestServer)

public:
    explicit HttpTestServer(QObject *parent = nullptr);

    QHash<QString, QByteArray> files;
    bool supportRange = true;
    qint64 cutAfter = -1; // close after sending this many body bytes (once)
    QList<QByteArray> rangeHeaders;
    int requests = 0;

protected:
    void incomingConnection(qintptr handle) override;

private:
    void answer(QTcpSocket *socket, const QByteArray &head);
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

} // namespace edgelens::test
