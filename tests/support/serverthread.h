#pragma once

// A DetectionServer on its own thread, the way the desktop app embeds it, for suites that drive
// it from the test thread with blocking clients (blockingclients.h): start and stop, the
// server's own figures, and the check that it still serves a good request after a bad one.
// Part of edgelens_servertestsupport (it links the server library).

#include "net/detectionserver.h"
#include "net/serverconfig.h"

#include <QByteArray>
#include <QJsonObject>
#include <QSize>
#include <QThread>

#include <memory>

namespace edgelens::test {

class ServerThread final
{
    Q_DISABLE_COPY_MOVE(ServerThread)

public:
    ServerThread() = default;
    ~ServerThread() { shutDown(); }

    // A server started with config; null (and a warning saying why) when it did not start.
    static std::unique_ptr<ServerThread> started(const ServerConfig &config);

    bool start(const ServerConfig &config, QString *error);
    void drain(int timeoutMs);
    void shutDown();

    DetectionServer *server() const { return m_server; }
    quint16 port() const { return m_port; }
    QJsonObject info() const { return m_info; }

    // The server's own figures, read from the test thread (the metrics are thread-safe).
    double metric(const QString &series) const;
    bool noConnectionsOpen() const;
    // A good v2 request, then a good legacy one, each on a fresh connection, get a marked-up
    // JPEG (goodImage: a small JPEG).
    void verifyStillServing(const QByteArray &goodImage) const;

private:
    QThread m_thread;
    DetectionServer *m_server = nullptr;
    quint16 m_port = 0;
    QJsonObject m_info;
};

// The embedded configuration with nanodet-m-320, two workers and a 5 s idle timeout.
ServerConfig embeddedTestConfig();
// The size OpenCV decodes bytes to; invalid when they are not an image.
QSize decodedImageSize(const QByteArray &bytes);
// The same, for JPEG bytes only.
QSize jpegImageSize(const QByteArray &bytes);

} // namespace edgelens::test
