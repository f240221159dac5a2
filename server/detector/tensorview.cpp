#include "tensorview.h"

#include <QStringList>

namespace edgelens {

TensorView::TensorView(const cv::Mat &tensor)
    : m_tensor(tensor)
{
}

bool TensorView::isFloat() const
{
    return m_tensor.depth() == CV_32F && m_tensor.isContinuous();
}

std::vector<int> TensorView::shape() const
{
    std::vector<int> dims;
    for (int d = 0; d < m_tensor.dims; ++d)
        dims.push_back(m_tensor.size[d]);
    // A 2-D Mat also reports its channels separately; tensors from cv::dnn have one.
    if (m_tensor.channels() > 1)
        dims.push_back(m_tensor.channels());
    while (dims.size() > 1 && dims.front() == 1)
        dims.erase(dims.begin());
    return dims;
}

int TensorView::rows() const
{
    if (!isFloat() || m_tensor.empty())
        return 0;
    const std::vector<int> dims = shape();
    int rows = 1;
    for (size_t i = 0; i + 1 < dims.size(); ++i)
        rows *= dims[i];
    return rows;
}

int TensorView::columns() const
{
    if (!isFloat() || m_tensor.empty())
        return 0;
    return shape().back();
}

const float *TensorView::data() const
{
    return isFloat() ? m_tensor.ptr<float>() : nullptr;
}

QString TensorView::describe(const cv::Mat &tensor)
{
    QStringList parts;
    for (int d = 0; d < tensor.dims; ++d)
        parts.append(QString::number(tensor.size[d]));
    QString text = QStringLiteral("[") + parts.join(QStringLiteral(", ")) + QStringLiteral("]");
    if (tensor.depth() != CV_32F)
        text += QStringLiteral(" (not float32)");
    return text;
}

QString TensorView::describe(const std::vector<cv::Mat> &tensors)
{
    QStringList parts;
    for (const cv::Mat &t : tensors)
        parts.append(describe(t));
    return parts.isEmpty() ? QStringLiteral("none") : parts.join(QStringLiteral(", "));
}

} // namespace edgelens
