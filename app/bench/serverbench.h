#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>

namespace edgelens {

struct LoadFigures
{
    int clients = 0;
    int completed = 0;
    int failed = 0;
    double seconds = 0;
    double imagesPerSecond = 0;
    double medianMs = 0; // round trip per image, as a client sees it
    double p95Ms = 0;
    QString firstError;
};

// Loads a running EdgeLens server with N concurrent clients, each sending one image after
// another and waiting for its marked-up JPEG: legacy clients (a connection per image) or v2
// clients (DetectionClient, one persistent connection, one request in flight each).
class ServerBench final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerBench)

public:
    enum class Protocol { Legacy, V2 };

    ServerBench(const QString &host, quint16 port, const QList<QByteArray> &images, QObject *parent = nullptr);

    // Runs a local event loop until done: seconds > 0 sends until that much time has passed,
    // otherwise `count` images in all; in-flight requests are always waited for.
    LoadFigures run(Protocol protocol, int clients, double seconds, int count);

private:
    QString m_host;
    quint16 m_port;
    QList<QByteArray> m_images;
};

} // namespace edgelens
