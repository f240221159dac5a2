#include "serverbench.h"

#include "client/detectionclient.h"
#include "evalrun/modelevaluation.h"
#include "legacybenchclient.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include <algorithm>
#include <memory>
#include <vector>

namespace edgelens {

ServerBench::ServerBench(const QString &host, quint16 port, const QList<QByteArray> &images, QObject *parent)
    : QObject(parent)
    , m_host(host)
    , m_port(port)
    , m_images(images)
{
}

void LoadFigures::merge(const LoadFigures &other)
{
    clients = std::max(clients, other.clients);
    completed += other.completed;
    failed += other.failed;
    seconds += other.seconds;
    imagesPerSecond = seconds > 0 ? completed / seconds : 0;
    if (firstError.isEmpty())
        firstError = other.firstError;
    roundTripsMs += other.roundTripsMs;
    medianMs = ModelEvaluation::percentile(roundTripsMs, 50);
    p95Ms = ModelEvaluation::percentile(roundTripsMs, 95);
    p99Ms = ModelEvaluation::percentile(roundTripsMs, 99);
}

LoadFigures ServerBench::run(Protocol protocol, int clients, double seconds, int count)
{
    LoadFigures figures;
    figures.clients = clients;
    if (m_images.isEmpty() || clients < 1)
        return figures;

    QEventLoop loop;
    QElapsedTimer clock;
    int submitted = 0;
    int finishedClients = 0;
    QList<double> roundTrips;

    const auto nextImage = [&]() -> QByteArray {
        const bool over = seconds > 0 ? double(clock.nsecsElapsed()) / 1e9 >= seconds : submitted >= count;
        if (over)
            return {};
        return m_images.at(submitted++ % m_images.size());
    };
    const auto done = [&](double ms) {
        ++figures.completed;
        roundTrips.append(ms);
    };
    const auto failed = [&](const QString &reason) {
        if (figures.failed++ == 0)
            figures.firstError = reason;
    };
    const auto clientFinished = [&]() {
        if (++finishedClients == clients)
            loop.quit();
    };

    // A stuck server must not hang the bench: give up well after the planned run time.
    QTimer watchdog;
    watchdog.setSingleShot(true);
    connect(&watchdog, &QTimer::timeout, &loop, [&]() {
        if (figures.firstError.isEmpty())
            figures.firstError = QStringLiteral("gave up waiting for the server");
        loop.quit();
    });
    watchdog.start(int(seconds > 0 ? seconds * 1000 * 4 + 30000 : 120000 + count * 2000));

    std::vector<std::unique_ptr<QObject>> owned;
    clock.start();
    for (int c = 0; c < clients; ++c) {
        if (protocol == Protocol::Legacy) {
            auto client = std::make_unique<LegacyBenchClient>(m_host, m_port, nextImage);
            connect(client.get(), &LegacyBenchClient::imageDone, &loop, done);
            connect(client.get(), &LegacyBenchClient::imageFailed, &loop, failed);
            connect(client.get(), &LegacyBenchClient::finished, &loop, clientFinished);
            client->start();
            owned.push_back(std::move(client));
        } else {
            const bool http = protocol == Protocol::DeepStack;
            auto client = std::make_unique<DetectionClient>();
            client->setTarget(m_host, http ? m_httpPort : m_port);
            client->setProtocol(http ? DetectionClient::Protocol::DeepStack : DetectionClient::Protocol::V2);
            client->setMaxInFlight(1);
            DetectOptions options;
            options.returnImage = !http && !m_boxesOnly;
            DetectionClient *raw = client.get();
            const auto sendNext = [raw, nextImage, clientFinished, options]() {
                const QByteArray image = nextImage();
                if (image.isEmpty())
                    clientFinished();
                else
                    raw->submit(image, options);
            };
            connect(raw, &DetectionClient::resultReady, &loop, [=](quint64, const ClientResult &result) {
                if (options.returnImage && result.jpeg.isEmpty())
                    failed(QStringLiteral("the server answered without the marked-up image"));
                else
                    done(result.roundTripMs);
                sendNext();
            });
            connect(raw, &DetectionClient::requestFailed, &loop, [=](quint64, const QString &reason, bool) {
                failed(reason);
                sendNext();
            });
            sendNext();
            owned.push_back(std::move(client));
        }
    }
    if (finishedClients < clients)
        loop.exec();
    figures.seconds = double(clock.nsecsElapsed()) / 1e9;
    figures.imagesPerSecond = figures.seconds > 0 ? figures.completed / figures.seconds : 0;
    figures.medianMs = ModelEvaluation::percentile(roundTrips, 50);
    figures.p95Ms = ModelEvaluation::percentile(roundTrips, 95);
    figures.p99Ms = ModelEvaluation::percentile(roundTrips, 99);
    figures.roundTripsMs = roundTrips;
    return figures;
}

} // namespace edgelens
