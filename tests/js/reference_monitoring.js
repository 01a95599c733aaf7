const ws = new WebSocket('ws://localhost:8001/ws/monitoring/my-ai-service');

// on connect
ws.onopen = function() {
    // subscription settings
    ws.send(JSON.stringify({
        action: 'subscribe',
        metrics: ['cpu', 'memory', 'gpu'],
        interval: 5000  // every 5 seconds
    }));
};

// on message
ws.onmessage = function(event) {
    const data = JSON.parse(event.data);
    console.log('실시간 메트릭:', data);
    /*
    {
        "timestamp": "2024-01-20T14:30:00Z",
        "tenant_id": "my-ai-service",
        "metrics": {
            "cpu": 65.5,
            "memory": 78.2,
            "gpu": 85.0
        }
    }
    */
};
