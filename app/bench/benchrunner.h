#pragma once

#include "models/modelmanifest.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QTextStream>

namespace edgelens {

class DetectionServer;
class ServerBench;
class PipelineBench;
struct PipelineFigures;

struct BenchOptions
{
    QList<ModelManifest> models; // the first one also gets the detailed server figures
    QString imagesDir;           // images sent for the speed figures, read once into memory
    double seconds = 5;          // per figure; 0: `count` images instead
    int count = 0;
    int workers = 2;             // server workers, and threads of the parallel detector-only figure
    int threads = 1;             // cv::setNumThreads, applied to every figure
    QString backend;             // createDetector() name; empty: its default
    bool withMap = false;        // also score each model on mapImages / mapAnnotations
    QString mapImages;
    QString mapAnnotations;
    bool withServer = true;
    bool markdown = false;
};

// Runs edgelens-bench's measurements and prints them as they come: per model a summary row
// (accuracy, forward time, detector-only and loopback throughput), then for the first model
// the server with 1 and 4 clients in both protocols against the detector alone, and the latency
// of one client over v2 and over the HTTP (DeepStack) API.
class BenchRunner final
{
    Q_DISABLE_COPY_MOVE(BenchRunner)

public:
    explicit BenchRunner(const BenchOptions &options);

    int run(); // exit code: 0, or 1 when nothing could be measured
    // Every image below dir, read into memory once (the figures measure decoding, not the disk).
    static QList<QByteArray> readImages(const QString &dir);

private:
    struct ServerFigures;

    void printMachine(const QString &when);
    void printHeader();
    int printModelTable(const PipelineBench &pipeline, std::optional<PipelineFigures> *baseline,
                        std::optional<ServerFigures> *detailed);
    void printServerTable(const PipelineBench &pipeline, const PipelineFigures &baseline, const ServerFigures &detailed);
    bool loadImages();
    std::optional<ServerFigures> measureServer(const ModelManifest &manifest, bool detailed, QString *error);
    void measureLatency(DetectionServer &server, ServerBench &bench, ServerFigures *figures);
    void printLatency(const ServerFigures &figures, const QString &model);
    QString scoreMap(const ModelManifest &manifest);

    BenchOptions m_options;
    QList<QByteArray> m_images;
    QTextStream m_out;
    QTextStream m_err;
};

} // namespace edgelens
