#include "photogenerator.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <vector>

namespace edgelens {

QStringList PhotoGenerator::generate(const QString &sourceDir, const QString &outputDir, int count, QString *error)
{
    const QFileInfoList sources = QDir(sourceDir).entryInfoList({QStringLiteral("*.jpg"), QStringLiteral("*.jpeg"),
                                                                 QStringLiteral("*.png")},
                                                                QDir::Files, QDir::Name);
    if (sources.isEmpty()) {
        *error = QStringLiteral("no images in %1").arg(sourceDir);
        return {};
    }
    if (!QDir().mkpath(outputDir)) {
        *error = QStringLiteral("cannot create %1").arg(outputDir);
        return {};
    }
    cv::RNG rng(12345); // the same photos on every run
    QStringList written;
    for (int i = 0; i < count; ++i) {
        const QFileInfo &source = sources.at(i % sources.size());
        const cv::Mat small = cv::imread(source.absoluteFilePath().toStdString(), cv::IMREAD_COLOR);
        if (small.empty()) {
            *error = QStringLiteral("cannot decode %1").arg(source.absoluteFilePath());
            return {};
        }
        const QByteArray jpeg = makePhoto(small, rng);
        const QString round = i < sources.size() ? QString() : QStringLiteral("-%1").arg(i / sources.size());
        const QString path = QDir(outputDir).filePath(source.completeBaseName() + QStringLiteral("-12mp") + round
                                                      + QStringLiteral(".jpg"));
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly)
            || file.write(jpeg) != jpeg.size()
            || !file.commit()) {
            *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
            return {};
        }
        written.append(path);
    }
    return written;
}

QByteArray PhotoGenerator::makePhoto(const cv::Mat &source, cv::RNG &rng)
{
    cv::Mat photo;
    cv::resize(source, photo, cv::Size(kWidth, kHeight), 0, 0, cv::INTER_CUBIC);
    cv::Mat noise(photo.size(), CV_16SC3);
    rng.fill(noise, cv::RNG::NORMAL, 0, 3);
    cv::Mat noisy;
    photo.convertTo(noisy, CV_16SC3);
    noisy += noise;
    noisy.convertTo(photo, CV_8UC3); // saturates
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", photo, jpeg, {cv::IMWRITE_JPEG_QUALITY, 92});
    return QByteArray(reinterpret_cast<const char *>(jpeg.data()), qsizetype(jpeg.size()));
}

} // namespace edgelens
