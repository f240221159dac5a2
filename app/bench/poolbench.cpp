#include "poolbench.h"

#include "client/detectionclient.h"
#include "texttable.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QProcess>
#include <QSet>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

namespace edgelens {

namespace {

constexpr int kInFlightPerDevice = 2;

quint16 freeLoopbackPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

} // namespace

PoolBench::PoolBench(const QString &serverProgram, const QString &model, const QList<QByteArray> &images)
    : m_serverProgram(serverProgram)
    , m_model(model)
    , m_images(images)
{
}

PoolBench::~PoolBench()
{
    for (auto &server : m_servers) {
        if (server->state() != QProcess::NotRunning) {
            server->terminate();
            if (!server->waitForFinished(5000))
                server->kill();
            server->waitForFinished(2000);
        }
    }
}

bool PoolBench::startServer(int index, QString *error)
{
    auto process = std::make_unique<QProcess>();
    process->setProcessChannelMode(QProcess::MergedChannels);
    process->start(m_serverProgram,
                   {QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                    QString::number(m_ports.at(index)), QStringLiteral("--workers"), QStringLiteral("1"),
                    QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--model"), m_model,
                    QStringLiteral("--log-level"), QStringLiteral("warning")});
    if (!process->waitForStarted(10000)) {
        *error = QStringLiteral("cannot start %1: %2").arg(m_serverProgram, process->errorString());
        return false;
    }
    if (index < int(m_servers.size()))
        m_servers[size_t(index)] = std::move(process);
    else
        m_servers.push_back(std::move(process));
    return true;
}

bool PoolBench::waitUntilListening(int index, QString *error)
{
    // Ready when a connection is accepted (the server listens only once its model is loaded).
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 60000) {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_ports.at(index));
        if (socket.waitForConnected(500))
            return true;
        if (m_servers.at(size_t(index))->state() == QProcess::NotRunning) {
            *error = QStringLiteral("edgelens-server exited: %1")
                         .arg(QString::fromUtf8(m_servers.at(size_t(index))->readAll()).trimmed());
            return false;
        }
        QEventLoop loop;
        QTimer::singleShot(200, &loop, &QEventLoop::quit);
        loop.exec();
    }
    *error = QStringLiteral("edgelens-server on port %1 did not start within 60 s").arg(m_ports.at(index));
    return false;
}

PoolFigures PoolBench::measure(int devices, double seconds, int count, double killAtSeconds,
                               double restartAfterSeconds)
{
    PoolFigures figures;
    figures.devices = devices;
    DetectionClient client;
    QList<DeviceSpec> specs;
    for (int i = 0; i < devices; ++i) {
        DeviceSpec spec;
        spec.host = QStringLiteral("127.0.0.1");
        spec.port = m_ports.at(i);
        spec.protocol = DeviceSpec::Protocol::V2;
        specs.append(spec);
    }
    client.setDevices(specs);
    client.setMaxInFlight(kInFlightPerDevice);
    client.setTimeout(60000);

    QEventLoop loop;
    QElapsedTimer clock;
    int submitted = 0;
    QSet<quint64> open;
    QSet<quint64> ended;
    const int window = devices * kInFlightPerDevice + 2; // what the CLI reads ahead
    const auto over = [&] {
        return seconds > 0 ? double(clock.nsecsElapsed()) / 1e9 >= seconds : submitted >= count;
    };
    const auto topUp = [&] {
        while (open.size() < window && !over())
            open.insert(client.submit(m_images.at(submitted++ % m_images.size())));
        if (open.isEmpty())
            loop.quit();
    };
    const auto settle = [&](quint64 id) {
        if (ended.contains(id)) {
            ++figures.duplicates;
            return false;
        }
        ended.insert(id);
        open.remove(id);
        return true;
    };
    QObject::connect(&client, &DetectionClient::resultReady, &loop, [&](quint64 id, const ClientResult &) {
        if (settle(id))
            ++figures.completed;
        topUp();
    });
    QObject::connect(&client, &DetectionClient::requestFailed, &loop, [&](quint64 id, const QString &reason, bool) {
        if (settle(id) && figures.failed++ == 0)
            figures.firstError = reason;
        topUp();
    });

    QTimer kill;
    QTimer restart;
    kill.setSingleShot(true);
    restart.setSingleShot(true);
    QObject::connect(&kill, &QTimer::timeout, &loop, [&] {
        m_servers.at(1)->kill(); // SIGKILL: no goodbye to anyone
        m_servers.at(1)->waitForFinished(5000);
        restart.start(int(restartAfterSeconds * 1000));
    });
    QObject::connect(&restart, &QTimer::timeout, &loop, [&] {
        QString error;
        if (!startServer(1, &error) && figures.firstError.isEmpty())
            figures.firstError = error;
    });
    if (killAtSeconds > 0)
        kill.start(int(killAtSeconds * 1000));

    clock.start();
    QTimer::singleShot(0, &loop, topUp);
    loop.exec();
    figures.seconds = double(clock.nsecsElapsed()) / 1e9;
    figures.imagesPerSecond = figures.seconds > 0 ? figures.completed / figures.seconds : 0;
    // Answers that would arrive late still count as duplicates.
    QEventLoop drain;
    QTimer::singleShot(500, &drain, &QEventLoop::quit);
    drain.exec();
    figures.statuses = client.deviceStatuses();
    return figures;
}

int PoolBench::run(double seconds, int count, bool markdown, QTextStream &out, QTextStream &err)
{
    if (m_images.isEmpty())
        return 1;
    QString error;
    while (m_ports.size() < 3) {
        const quint16 port = freeLoopbackPort();
        if (!m_ports.contains(port))
            m_ports.append(port);
    }
    for (int i = 0; i < 3; ++i) {
        if (!startServer(i, &error) || !waitUntilListening(i, &error)) {
            err << "edgelens-bench: " << error << '\n' << Qt::flush;
            return 1;
        }
    }
    // Warm every device up (first inference, caches) outside the figures.
    measure(3, 0, 3 * 4);

    out << "\nDevice pool: model " << m_model << ", each device an edgelens-server process with --workers 1 --threads 1"
        << " on loopback, " << kInFlightPerDevice << " requests in flight per device\n";
    TextTable table({{QStringLiteral("devices"), 7}, {QStringLiteral("images"), 6}, {QStringLiteral("failed"), 6},
                     {QStringLiteral("images/s"), 8}, {QStringLiteral("vs one"), 6}},
                    markdown);
    out << table.header() << Qt::flush;
    double one = 0;
    for (int devices = 1; devices <= 3; ++devices) {
        const PoolFigures f = measure(devices, seconds, count);
        if (devices == 1)
            one = f.imagesPerSecond;
        out << table.row({QString::number(devices), QString::number(f.completed), QString::number(f.failed),
                          QString::number(f.imagesPerSecond, 'f', 1),
                          one > 0 ? QString::number(f.imagesPerSecond / one, 'f', 2) + QLatin1Char('x') : QString()})
            << Qt::flush;
        if (!f.firstError.isEmpty())
            err << "  first error: " << f.firstError << '\n' << Qt::flush;
    }

    // Failover: long enough that the killed device comes back and works again.
    const int failoverCount = count > 0 ? count : std::max(120, int(one * 3 * 8));
    const double killAt = std::max(1.0, failoverCount / std::max(1.0, one * 2.5) * 0.25);
    const PoolFigures f = measure(3, 0, failoverCount, killAt, 2.0);
    out << "\nFailover: 3 devices, " << failoverCount << " images; device 2 SIGKILLed after "
        << QString::number(killAt, 'f', 1) << " s and restarted 2 s later\n"
        << "completed " << f.completed << ", failed " << f.failed << ", duplicates " << f.duplicates << ", "
        << QString::number(f.imagesPerSecond, 'f', 1) << " images/s in " << QString::number(f.seconds, 'f', 1) << " s\n";
    for (const DeviceStatus &status : f.statuses) {
        out << "  " << status.device.name() << ": " << status.done << " done, " << status.failed << " failed, down "
            << status.timesDown << " time(s), now " << DeviceStatus::stateName(status.state) << '\n';
    }
    if (!f.firstError.isEmpty())
        out << "  first error: " << f.firstError << '\n';
    out << Qt::flush;
    return 0;
}

} // namespace edgelens
