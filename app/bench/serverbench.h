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
    double p99Ms = 0;
    QString firstError;
    QList<double> roundTripsMs; // every completed image's

    // Figures of several runs taken as one (interleaved runs of two protocols on a loaded machine).
    void merge(const LoadFigures &other);
};

// Loads a running EdgeLens server with N concurrent clients, each sending one image after
// another and waiting for its answer: legacy clients (a connection per image, the marked-up
// JPEG), v2 clients (DetectionClient, one persistent connection, one request in flight each;
// the marked-up JPEG, or with boxesOnly only the boxes), or DeepStack clients (DetectionClient
// over the HTTP port, POST /v1/vision/detection: boxes only, as Frigate and Home Assistant ask).
// Round trips are the client's: request written -> answer parsed.
class ServerBench final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerBench)

public:
    enum class Protocol { Legacy, V2, DeepStack };

    ServerBench(const QString &host, quint16 port, const QList<QByteArray> &images, QObject *parent = nullptr);

    // Runs a local event loop until done: seconds > 0 sends until that much time has passed,
    // otherwise `count` images in all; in-flight requests are always waited for.
    LoadFigures run(Protocol protocol, int clients, double seconds, int count);

    void setHttpPort(quint16 port) { m_httpPort = port; } // the DeepStack API's port
    void setBoxesOnly(bool boxesOnly) { m_boxesOnly = boxesOnly; } // v2 without the marked-up JPEG

private:
    QString m_host;
    quint16 m_port;
    quint16 m_httpPort = 0;
    bool m_boxesOnly = false;
    QList<QByteArray> m_images;
};

} // namespace edgelens
