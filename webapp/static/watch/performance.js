/* The performance page's chart: each window's on-time and early rates and its score (bars), drawn with
   ECharts served from this site (/vendor/echarts). The tables below hold the same figures without it. */
(function () {
  "use strict";
  var node = document.getElementById("performance-chart");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.getAttribute("data-chart"));
  var chart = window.echarts.init(node, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { data: ["按时办结率 %", "提前办结率 %", "考核得分"] },
    grid: { left: 50, right: 30, bottom: 80, top: 40 },
    xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", min: 0, max: 100 },
    series: [
      { name: "按时办结率 %", type: "bar", barMaxWidth: 36, data: data.on_time, itemStyle: { color: "#1d4f91" } },
      { name: "提前办结率 %", type: "bar", barMaxWidth: 36, data: data.early, itemStyle: { color: "#237a3b" } },
      { name: "考核得分", type: "bar", barMaxWidth: 36, data: data.score, itemStyle: { color: "#c0282d" },
        label: { show: true, position: "top" } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
