#include "darknetdecoder.h"

#include "detector/tensorview.h"

#include <QList>

#include <algorithm>

namespace edgelens {

DarknetDecoder::DarknetDecoder(cv::Size input, int numClasses)
    : m_input(input)
    , m_numClasses(numClasses)
{
}

bool DarknetDecoder::decode(const std::vector<cv::Mat> &outputs, float threshold,
                            std::vector<Candidate> &candidates, QString *error) const
{
    const int columns = 5 + m_numClasses;
    int used = 0;
    for (const cv::Mat &out : outputs) {
        const TensorView view(out);
        if (view.columns() != columns)
            continue;
        ++used;
        const float *data = view.data();
        for (int r = 0; r < view.rows(); ++r) {
            const float *row = data + size_t(r) * size_t(columns);
            const float *scores = row + 5;
            const float *best = std::max_element(scores, scores + m_numClasses);
            if (*best < threshold || *best <= 0.0f)
                continue;
            const float w = row[2] * float(m_input.width);
            const float h = row[3] * float(m_input.height);
            const float x = row[0] * float(m_input.width) - w / 2;
            const float y = row[1] * float(m_input.height) - h / 2;
            candidates.push_back({int(best - scores), *best, cv::Rect2f(x, y, w, h)});
        }
    }
    if (used == 0) {
        return unexpectedOutputs(QStringLiteral("darknet"), QStringLiteral("[N, %1] outputs").arg(columns), outputs,
                                 error);
    }
    return true;
}

QByteArray DarknetDecoder::patchYoloThreshold(const QByteArray &cfg, double threshold)
{
    const QByteArray setting = "thresh=" + QByteArray::number(threshold, 'g', 6);
    QByteArray result;
    result.reserve(cfg.size() + 256);
    bool inYolo = false;
    const auto closeSection = [&] {
        // The parser keeps the last value of a key, so appending wins over an earlier thresh.
        if (inYolo)
            result += setting + '\n';
    };
    const QList<QByteArray> lines = cfg.split('\n');
    for (int i = 0; i < lines.size(); ++i) {
        const QByteArray trimmed = lines.at(i).trimmed();
        if (trimmed.startsWith('[')) {
            closeSection();
            inYolo = trimmed == "[yolo]";
        } else if (inYolo) {
            // drop an existing thresh= (but not ignore_thresh / truth_thresh / iou_thresh)
            const int eq = trimmed.indexOf('=');
            if (eq > 0 && trimmed.left(eq).trimmed() == "thresh")
                continue;
        }
        result += lines.at(i);
        if (i + 1 < lines.size())
            result += '\n';
    }
    if (!result.endsWith('\n'))
        result += '\n';
    closeSection();
    return result;
}

} // namespace edgelens
