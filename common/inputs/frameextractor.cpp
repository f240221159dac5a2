#include "frameextractor.h"

#include "inputs/framejpegencoder.h"
#include "inputs/videofilesource.h"

#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSaveFile>

#include <opencv2/imgcodecs.hpp>

#include <vector>

Q_LOGGING_CATEGORY(lcExtractor, "edgelens.inputs.extractor", QtInfoMsg)

namespace edgelens {

FrameExtractor::FrameExtractor(const ScannedImage &video, const Options &options)
    : FrameExtractor(video, options, std::make_unique<VideoFileSource>(video.absolutePath))
{
}

FrameExtractor::FrameExtractor(const ScannedImage &video, const Options &options, std::unique_ptr<FrameSource> source)
    : m_video(video)
    , m_options(options)
    , m_source(std::move(source))
    , m_sampler(options.rule)
    , m_jpeg(std::make_unique<FrameJpegEncoder>())
{
}

FrameExtractor::~FrameExtractor() = default;

QString FrameExtractor::framesFolderName()
{
    return QStringLiteral("frames");
}

QString FrameExtractor::framesDirFor(const QString &outputDir, const ScannedImage &video)
{
    const QString folder = QFileInfo(video.relativePath).path();
    return QDir::cleanPath(outputDir + QLatin1Char('/') + framesFolderName()
                           + (folder == QLatin1String(".") ? QString() : QLatin1Char('/') + folder));
}

bool FrameExtractor::open(QString *error)
{
    QString why;
    if (!m_options.rule.isValid(&why)) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(m_video.absolutePath, why);
        return false;
    }
    if (m_options.suffix != QLatin1String("jpg") && m_options.suffix != QLatin1String("png")) {
        if (error)
            *error = QStringLiteral("frames are written as jpg or png, not %1").arg(m_options.suffix);
        return false;
    }
    if (!m_source->open(error))
        return false;
    // Scene changes look at every frame, through the source's own small grey copy if it has one.
    m_sourceSignatures = m_sampler.needsPixels() && m_source->setSignatureSize(FrameSampler::signatureSize());
    if (!m_sampler.needsPixels()) {
        // The same rule over the same frames in the same order decides ahead of decoding, so
        // the source need not decode what this extractor's sampler will skip.
        auto planner = std::make_shared<FrameSampler>(m_options.rule);
        const qint64 resumeAfter = m_options.resumeAfterIndex;
        m_source->setKeepFilter([planner, resumeAfter](qint64 index, double timestampMs) {
            SourceFrame frame;
            frame.index = index;
            frame.timestampMs = timestampMs;
            return planner->decide(frame) == FrameSampler::Verdict::Keep && index > resumeAfter;
        });
    }
    const SourceProperties properties = m_source->properties();
    m_template.kind = properties.isFile ? ImageOrigin::Kind::VideoFrame : ImageOrigin::Kind::LiveFrame;
    m_template.source = m_video.absolutePath;
    m_template.sourceBytes = properties.isFile ? QFileInfo(m_video.absolutePath).size() : -1;
    m_template.frameSize = properties.size;
    m_template.samplingRule = m_options.rule.describe();
    return true;
}

SourceProperties FrameExtractor::properties() const
{
    return m_source->properties();
}

qint64 FrameExtractor::estimatedCount() const
{
    return m_options.rule.estimatedCount(m_source->properties());
}

bool FrameExtractor::variableFrameRate() const
{
    return m_source->variableFrameRate();
}

bool FrameExtractor::writeFrame(SourceFrame *decoded, const QString &path, QString *error)
{
    QByteArray bytes;
    QString why;
    bool encoded = false;
    const bool jpeg = m_options.suffix == QLatin1String("jpg");
    // A decoder's own 4:2:0 planes are already a JPEG's colour layout: no BGR needed for the file.
    if (jpeg)
        encoded = m_source->retrieveJpeg(*decoded, m_options.jpegQuality, &bytes, &why);
    if (!encoded && why.isEmpty()) {
        if (!m_source->retrieve(decoded, error))
            return false;
        if (jpeg) {
            encoded = m_jpeg->encode(decoded->image, m_options.jpegQuality, &bytes, &why);
        } else {
            std::vector<uchar> png;
            try {
                encoded = cv::imencode(".png", decoded->image, png);
            } catch (const cv::Exception &e) {
                why = QString::fromLocal8Bit(e.what());
            }
            bytes = QByteArray(reinterpret_cast<const char *>(png.data()), qsizetype(png.size()));
        }
    }
    if (!encoded) {
        qCWarning(lcExtractor) << "encoding a frame failed" << why;
        if (error)
            *error = QStringLiteral("%1: the frame could not be encoded").arg(path);
        return false;
    }
    if (!QDir().mkpath(QFileInfo(path).absolutePath())) {
        if (error)
            *error = QStringLiteral("%1: cannot create the folder").arg(QFileInfo(path).absolutePath());
        return false;
    }
    // Atomic: a frame file is either whole or absent, also when the run is killed.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)
        || file.write(bytes) != qint64(bytes.size())
        || !file.commit()) {
        if (error)
            *error = QStringLiteral("%1: cannot write: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

FrameExtractor::Step FrameExtractor::next(ScannedImage *frame, QString *error, cv::Mat *pixels)
{
    if (m_done)
        return Step::End;
    const FrameSource::Pixels mode = m_sampler.needsPixels() && !m_sourceSignatures ? FrameSource::Pixels::WithImage
                                                                                      : FrameSource::Pixels::WithoutImage;
    SourceFrame decoded;
    for (;;) {
        const FrameSource::Read read = m_source->next(&decoded, mode, error);
        if (read == FrameSource::Read::End) {
            m_done = true;
            return Step::End;
        }
        if (read == FrameSource::Read::Error) {
            m_done = true;
            return Step::Error;
        }
        if (read == FrameSource::Read::Stalled)
            continue; // a live source said "nothing yet"; a file never does
        ++m_decoded;
        const FrameSampler::Verdict verdict = m_sampler.decide(decoded);
        if (verdict == FrameSampler::Verdict::Stop) {
            m_done = true;
            m_source->close();
            return Step::End;
        }
        if (verdict != FrameSampler::Verdict::Keep)
            continue;
        if (decoded.index > m_options.resumeAfterIndex)
            break;
        ++m_kept; // handed on by the run this one continues
    }
    // Sampling by index or time decides without pixels: only a kept frame is converted, and
    // only when its file or the caller needs BGR.
    const QString stem = QFileInfo(m_video.relativePath).completeBaseName();
    const QString fileName = ImageOrigin::frameFileName(stem, decoded.index, m_options.suffix);
    const QString path = QDir(m_options.framesDir).filePath(fileName);
    if (!writeFrame(&decoded, path, error) || (pixels && !m_source->retrieve(&decoded, error))) {
        m_done = true;
        return Step::Error;
    }
    const QString folder = QFileInfo(m_video.relativePath).path();
    frame->absolutePath = QDir::cleanPath(path);
    frame->relativePath = folder == QLatin1String(".") ? fileName : folder + QLatin1Char('/') + fileName;
    frame->origin = m_template;
    frame->origin.frameIndex = decoded.index;
    frame->origin.timestampMs = decoded.timestampMs;
    frame->origin.variableFrameRate = m_source->variableFrameRate();
    if (pixels)
        *pixels = std::move(decoded.image);
    ++m_kept;
    return Step::Frame;
}

} // namespace edgelens
